import { describe, expect, it } from "vitest";
import { SystemClock } from "../../../drivers/clock.js";
import "../../../drivers/all.js";
import { createDevice } from "../../../drivers/registry.js";
import { runEmulateCommand } from "../../../src/cli/emulate-command.js";
import { freePort } from "../../support/influxd.js";

describe("cellbench emulate", () => {
  it("serves an instrument on loopback TCP that the real driver reads, until aborted", async () => {
    const port = await freePort();
    const printed: string[] = [];
    const controller = new AbortController();
    const running = runEmulateCommand(
      ["espec/p300", "--listen", `tcp://127.0.0.1:${port}`],
      (l) => printed.push(l),
      controller.signal,
    );
    const deadline = Date.now() + 10_000;
    while (printed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(printed[0]).toBe(`emulating espec/p300 on tcp://127.0.0.1:${port}; Ctrl-C stops`);
    const device = createDevice(
      { id: "tc1", driver: "espec/p300", transport: `tcp://127.0.0.1:${port}` },
      { clock: new SystemClock(), chamberOfChannel: () => undefined },
    );
    try {
      await device.connect();
      await device.chamber!.setSetpoint(40);
      const reading = await device.chamber!.read();
      expect(reading.setpointC).toBe(40);
      expect(reading.temperatureC).toBeGreaterThan(-40);
      await device.chamber!.toSafeState();
    } finally {
      await device.close();
      controller.abort();
      await running;
    }
    expect(printed[printed.length - 1]).toBe(`stopped espec/p300 on tcp://127.0.0.1:${port}`);
  });

  it("lists the emulators and refuses what it cannot run, saying what to type", async () => {
    const listed: string[] = [];
    await runEmulateCommand(["--list"], (l) => listed.push(l), new AbortController().signal);
    expect(listed.map((l) => l.split(" ")[0])).toEqual(
      expect.arrayContaining(["watlow/f4", "watlow/f4t", "espec/p300", "ea/psb-scpi"]),
    );
    const signal = new AbortController().signal;
    await expect(runEmulateCommand(["espec/p300"], () => undefined, signal)).rejects.toThrow(
      /^--listen is required/,
    );
    await expect(
      runEmulateCommand(["acme/x", "--listen", "tcp://127.0.0.1:1"], () => undefined, signal),
    ).rejects.toMatchObject({ code: "USAGE" });
    await expect(
      runEmulateCommand(
        ["watlow/f4", "--listen", "tcp://127.0.0.1:1", "--unit", "one"],
        () => undefined,
        signal,
      ),
    ).rejects.toThrow('--unit takes whole numbers separated by commas, got "one"');
  });
});
