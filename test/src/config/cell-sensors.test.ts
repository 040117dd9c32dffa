import { describe, expect, it } from "vitest";
import { ConfigError, normaliseConfig } from "../../../src/config/load-config.js";

function issuesOf(raw: unknown): string[] {
  try {
    normaliseConfig(raw, "bench.yaml", {});
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

const daq = { id: "daq1", driver: "keysight/daq970a", transport: "tcp://127.0.0.1:5025" };

describe("cell temperature sensors in the bench configuration", () => {
  it("maps a channel to its sensors and hands drivers plain channel ids", () => {
    const config = normaliseConfig(
      {
        bench: "b1",
        devices: [
          {
            id: "psb1",
            driver: "ea/psb-scpi",
            transport: "tcp://127.0.0.1:5025",
            channels: [
              {
                id: "ch1",
                temperature: [
                  { device: "daq1", input: 101 },
                  { device: "daq1", input: "102" },
                ],
              },
              "ch2",
            ],
          },
          daq,
        ],
        chambers: [
          { id: "oven", device: "psb1", channels: ["ch1"], sensors: [{ device: "daq1", input: 110 }] },
        ],
      },
      "bench.yaml",
      {},
    );
    expect(config.devices[0]?.channels).toEqual(["ch1", "ch2"]);
    expect(config.devices[1]).toEqual(daq);
    expect(config.cellSensors).toEqual({
      ch1: [
        { device: "daq1", input: "101" },
        { device: "daq1", input: "102" },
      ],
    });
    expect(config.chambers[0]?.sensors).toEqual([{ device: "daq1", input: "110" }]);
  });

  it("leaves cellSensors out when no channel names a sensor", () => {
    const config = normaliseConfig(
      { bench: "b1", devices: [{ id: "c1", driver: "sim/cycler", channels: ["ch1"] }] },
      "x",
      {},
    );
    expect(config.cellSensors).toBeUndefined();
  });

  it("names an unknown sensor device, an input used twice, and a channel listed twice", () => {
    const issues = issuesOf({
      bench: "b1",
      devices: [
        {
          id: "psb1",
          driver: "ea/psb-scpi",
          channels: [
            { id: "ch1", temperature: [{ device: "daq9", input: 101 }] },
            { id: "ch2", temperature: [{ device: "daq1", input: 101 }] },
            { id: "ch3", temperature: [{ device: "daq1", input: "101" }] },
            "ch3",
          ],
        },
        daq,
      ],
      chambers: [
        { id: "oven", device: "psb1", channels: ["ch1"], sensors: [{ device: "daq1", input: 101 }] },
      ],
    });
    expect(issues).toContain(
      'devices[0].channels[0].temperature[0].device: no device "daq9"; name a sensor device listed under devices',
    );
    expect(issues).toContain(
      'devices[0].channels[2].temperature[0]: input 101 of "daq1" is already used at devices[0].channels[1].temperature[0]; a sensor measures one cell or chamber',
    );
    expect(issues).toContain(
      'chambers[0].sensors[0]: input 101 of "daq1" is already used at devices[0].channels[1].temperature[0]; a sensor measures one cell or chamber',
    );
    expect(issues).toContain('devices[0].channels: channel "ch3" is listed twice; list each channel once');
  });

  it("refuses a channel entry with unknown fields, an empty sensor list or a bad id, saying which", () => {
    const channel = (entry: unknown) =>
      issuesOf({ bench: "b1", devices: [{ id: "c1", driver: "sim/cycler", channels: [entry] }] });
    expect(channel({ id: "ch1", temp: [] })).toEqual([
      "devices[0].channels[0].temp: unknown key; remove it or check its spelling",
    ]);
    expect(channel({ id: "ch1", temperature: [] })).toEqual([
      "devices[0].channels[0].temperature: Expected array length to be greater or equal to 1",
    ]);
    expect(channel("ch 1")[0]).toMatch(/^devices\[0\]\.channels\[0\]: "ch 1" is not an id; use 1 to 64/);
  });
});
