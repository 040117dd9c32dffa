import { afterEach, describe, expect, it } from "vitest";
import {
  emulatorInfo,
  type RunningEmulator,
  registeredEmulators,
  startEmulator,
} from "../../../drivers/emulators/registry.js";
import { createTransport, ModbusBus } from "../../../protocols/index.js";

const running: RunningEmulator[] = [];
afterEach(async () => {
  for (const e of running.splice(0)) await e.stop();
});

describe("emulator registry", () => {
  it("lists the chamber emulators under their driver names", () => {
    const names = registeredEmulators().map((e) => e.name);
    for (const name of ["espec/p300", "watlow/f4", "watlow/f4t"]) expect(names).toContain(name);
    expect(emulatorInfo("watlow/f4").driverHints).toEqual({ unit: 1 });
  });

  it("names the known emulators when asked for an unknown one", () => {
    expect(() => emulatorInfo("acme/oven")).toThrow(
      /no emulator for driver "acme\/oven"; emulators exist for: .*watlow\/f4/,
    );
  });

  it("starts an emulator by name on a free loopback port and stops it (twice is fine)", async () => {
    const emu = await startEmulator("watlow/f4t", { listen: "tcp://127.0.0.1:0" });
    running.push(emu);
    expect(emu.name).toBe("watlow/f4t");
    expect(emu.listen).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const transport = createTransport(emu.listen);
    await transport.open();
    const bus = new ModbusBus(transport, { timeoutMs: 300 });
    expect(
      (await bus.device({ unit: 1 }).readHoldingRegisters(16, 3)).map((c) => String.fromCharCode(c)).join(""),
    ).toBe("F4T");
    bus.dispose();
    await transport.close();
    await emu.stop();
    await emu.stop();
  });

  it("refuses a listen address it cannot use", async () => {
    await expect(startEmulator("watlow/f4", { listen: "memory://nope" })).rejects.toMatchObject({
      code: "EMULATOR_LISTEN_FAILED",
    });
  });
});
