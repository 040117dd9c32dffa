/**
 * Issue 13, must show: the real EA PSB driver and the real DAQ970A driver against their emulators,
 * the DAQ's thermocouple on the EA emulator's cell. A cell that heats past its limit, and a
 * thermocouple that opens, each put the channel in safe state before the DAQ's next scan and fault
 * the run naming the sensor.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SystemClock } from "../../drivers/clock.js";
import {
  type EaPsbScpiEmulator,
  startEaPsbScpiEmulator,
} from "../../drivers/emulators/ea-psb-scpi-emulator.js";
import {
  type KeysightDaq970aEmulator,
  startKeysightDaq970aEmulator,
} from "../../drivers/emulators/keysight-daq970a-emulator.js";
import "../../drivers/all.js";
import type { MemoryPair } from "../../protocols/index.js";
import type { BenchConfig } from "../../src/config/load-config.js";
import { Daemon } from "../../src/daemon.js";
import { createLogger } from "../../src/log.js";
import { parseProfile } from "../../src/profile/document.js";
import { memoryLink } from "../drivers/ea/emulator-fixtures.js";
import { NMC_18650 } from "../support/sim-bench.js";
import { eventually } from "../support/wait.js";

const TOKEN = "viewer-token-for-sensor-tests-01";
const PERIOD_MS = 500;

/** The cell's temperature at each DAQ scan, and whether the supply's output was on then. */
interface ScanSeen {
  temperatureC: number;
  outputOn: boolean;
  /** Readings of an open thermocouple the DAQ has given so far (input 101 comes first in a scan). */
  openReadings: number;
}

describe("daemon: cell temperature from a DAQ's thermocouple on a real cycler", () => {
  let daemon: Daemon | undefined;
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await daemon?.stop({ drainTimeoutMs: 0 });
    daemon = undefined;
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function start() {
    const clock = new SystemClock();
    const psbLink = memoryLink();
    const daqLink = memoryLink();
    const pairs: MemoryPair[] = [psbLink.pair, daqLink.pair];
    stops.push(async () => {
      for (const p of pairs) await p.dispose();
    });
    const psb: EaPsbScpiEmulator = await startEaPsbScpiEmulator({ listen: psbLink.pair.device, clock });
    stops.push(() => psb.stop());
    const scans: ScanSeen[] = [];
    const daq: KeysightDaq970aEmulator = await startKeysightDaq970aEmulator({
      listen: daqLink.pair.device,
      clock,
      options: {
        // Input 101 is on the cell; 102 (read after it in every scan, open 101 or not) marks the scan.
        temperatureOf: (input: string) => {
          if (input === "101") return psb.supply.cell.temperatureC;
          scans.push({
            temperatureC: psb.supply.cell.temperatureC,
            outputOn: psb.supply.drive.kind !== "off",
            openReadings: daq.faults.fired.openThermocouple ?? 0,
          });
          return 25;
        },
      },
    });
    stops.push(() => daq.stop());
    const config: BenchConfig = {
      source: "test",
      bench: "sensors",
      http: { host: "127.0.0.1", port: 0 },
      store: ":memory:",
      devices: [
        { id: "psb1", driver: "ea/psb-scpi", transport: psbLink.url, channels: ["ch1"] },
        {
          id: "daq1",
          driver: "keysight/daq970a",
          transport: daqLink.url,
          options: { inputs: { "101": "K", "102": "T" } },
        },
      ],
      chambers: [],
      cellSensors: {
        ch1: [
          { device: "daq1", input: "101" },
          { device: "daq1", input: "102" },
        ],
      },
      samplingPeriodMs: PERIOD_MS,
      tokens: [{ role: "viewer", token: TOKEN }],
    };
    daemon = await Daemon.start({ config, logger: createLogger({ level: "silent" }) });
    // A discharge: its temperature window is the cell's whole range, so the 60 °C limit is what trips
    // (a charge would be stopped earlier, at the 45 °C edge of the charge window).
    const profile = parseProfile("name: discharge\nsteps:\n  - Discharge at 0.5C for 1 h\n", {
      sourceName: "discharge",
    });
    // No temperature override: the channel measures its cell through the DAQ.
    await daemon.runs.create({ channel: "ch1", cell: NMC_18650, profile }, "R1");
    const runs = daemon.runs;
    await eventually(
      () => psb.supply.drive.kind !== "off",
      "the supply to drive the cell",
      20_000,
      () => (runs.get("R1").state === "faulted" ? `run faulted: ${runs.get("R1").reason}` : undefined),
    );
    return { psb, daq, scans, runs, base: daemon.address as string };
  }

  /** The output was off at the scan after the first one that read `over` (before the DAQ's next scan). */
  async function expectSafeWithinOnePeriod(scans: ScanSeen[], over: (s: ScanSeen) => boolean) {
    const first = scans.findIndex(over);
    await eventually(() => scans.length > first + 1, "the DAQ's next scan");
    expect(first, "a scan read the fault").toBeGreaterThanOrEqual(0);
    expect(scans[first]?.outputOn, "the output was on when the fault was first scanned").toBe(true);
    expect(
      scans[first + 1]?.outputOn,
      `output at the next scan (${JSON.stringify(scans.slice(first, first + 2))})`,
    ).toBe(false);
  }

  it("shows the sensors in /api/v1/bench and /metrics; a cell heating past 60 °C is stopped before the next scan, the run faulted naming the sensor", async () => {
    const { psb, scans, runs, base } = await start();
    const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await eventually(async () => {
      const bench = (await (await get("/api/v1/bench")).json()) as {
        channels: {
          id: string;
          temperature_sensors: string[];
          last_sample: Record<string, unknown> | null;
        }[];
      };
      const ch1 = bench.channels.find((c) => c.id === "ch1");
      return (
        ch1?.temperature_sensors.join() === "daq1:101,daq1:102" &&
        typeof (ch1.last_sample?.sensors_c as Record<string, number> | undefined)?.["daq1:101"] ===
          "number" &&
        typeof ch1.last_sample?.temperature_age_s === "number"
      );
    }, "the sensors in /api/v1/bench");
    const metrics = await (await get("/metrics")).text();
    expect(metrics).toMatch(/cellbench_sensor_temperature_celsius\{channel="ch1",sensor="daq1:101"\} \d/);
    expect(metrics).toMatch(/cellbench_channel_temperature_fault\{channel="ch1"\} 0/);

    psb.supply.cell.runaway = { triggerC: 20, powerW: 100, doublingC: 10 };
    await eventually(() => runs.get("R1").state === "faulted", "the run to fault", 60_000);
    expect(runs.get("R1").reason).toMatch(
      /^temperature \d+(\.\d+)? °C at sensor daq1:101 outside -20\.\.60 °C/,
    );
    await expectSafeWithinOnePeriod(scans, (s) => s.temperatureC > 60 + 1);
  });

  it("a thermocouple that opens mid-run stops the channel before the next scan and faults the run naming it", async () => {
    const { daq, psb, scans, runs } = await start();
    daq.faults.set({ openThermocouple: { input: "101" } });
    await eventually(() => runs.get("R1").state === "faulted", "the run to fault", 20_000);
    expect(runs.get("R1").reason).toMatch(/^sensor daq1:101: open sensor/);
    expect(psb.supply.drive.kind).toBe("off");
    await expectSafeWithinOnePeriod(scans, (s) => s.openReadings > 0);
  });
});
