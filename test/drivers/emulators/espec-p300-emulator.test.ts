// The Espec P300 emulator's command set, spoken to directly through a line client.
import { afterEach, describe, expect, it } from "vitest";
import { startEspecP300Emulator } from "../../../drivers/emulators/espec-p300-emulator.js";
import { createMemoryPair, ScpiClient } from "../../../protocols/index.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Record<string, unknown> = {}) {
  const pair = createMemoryPair();
  cleanups.push(() => pair.dispose());
  const emu = await startEspecP300Emulator({ listen: pair.device, options });
  cleanups.push(() => emu.stop());
  await pair.host.open();
  const client = new ScpiClient(pair.host, { writeTerminator: "\r\n", timeoutMs: 100, resync: false });
  cleanups.push(async () => client.dispose());
  return { emu, client };
}

describe("emulated Espec P300", () => {
  it("answers TEMP?, MON?, MODE? and TYPE?", async () => {
    const { client } = await start({
      initialC: 23,
      setpointC: 25,
      alarmLimitsC: [-40, 100],
      rangeC: [-70, 150],
    });
    expect(await client.query("TEMP?")).toBe("23.0,25.0,100.0,-40.0");
    expect(await client.query("MON?")).toBe("23.0,,STANDBY,0");
    expect(await client.query("MODE?")).toBe("STANDBY");
    expect(await client.query("TYPE?")).toBe("T,S2,150.0");
  });

  it("sets the set point and mode with OK: echoes, and refuses with NA:", async () => {
    const { emu, client } = await start();
    expect(await client.query("TEMP, S25.5")).toBe("OK:TEMP, S25.5");
    expect(await client.query("MODE, CONSTANT")).toBe("OK:MODE, CONSTANT");
    expect(emu.chamber.state()).toMatchObject({ setpointC: 25.5, regulating: true });
    expect(await client.query("TEMP, S500.0")).toBe("NA:DATA OUT OF RANGE");
    expect(await client.query("MODE, RUN")).toBe("NA:PARA ERR");
    expect(await client.query("HELLO?")).toBe("NA:CMD ERR");
    emu.protect = true;
    expect(await client.query("MODE, STANDBY")).toBe("NA:PROTECT ON");
    expect(emu.mode).toBe("CONSTANT");
  });

  it("echoes settings in the spacing and case its options ask for", async () => {
    const { emu, client } = await start({ echoSpacing: "compact" });
    expect(await client.query("TEMP, S28.0")).toBe("OK:TEMP,S28.0");
    expect(await client.query("mode, Constant")).toBe("OK:mode,Constant");
    emu.echoCase = "upper";
    expect(await client.query("mode, Standby")).toBe("OK:MODE,STANDBY");
    emu.echoSpacing = "as-sent";
    emu.echoCase = "lower";
    expect(await client.query("TEMP, S30.0")).toBe("OK:temp, s30.0");
    expect(emu.chamber.state()).toMatchObject({ setpointC: 30, regulating: false });
    expect(await client.query("TEMP, S500.0")).toBe("NA:DATA OUT OF RANGE");
  });

  it("rejects an echo option it does not know", async () => {
    const pair = createMemoryPair();
    cleanups.push(() => pair.dispose());
    await expect(
      startEspecP300Emulator({ listen: pair.device, options: { echoSpacing: "tight" } }),
    ).rejects.toThrow(/echoSpacing must be one of as-sent, compact/);
  });

  it("answers only commands carrying its RS-485 address", async () => {
    const { emu, client } = await start({ address: 7 });
    expect(await client.query("7,MODE?")).toBe("STANDBY");
    await expect(client.query("8,MODE?")).rejects.toMatchObject({ code: "SCPI_TIMEOUT" });
    await expect(client.query("MODE?")).rejects.toMatchObject({ code: "SCPI_TIMEOUT" });
    expect(emu.commands).toEqual(["MODE?"]);
  });

  it("rejects unknown options naming the ones it takes", async () => {
    const pair = createMemoryPair();
    cleanups.push(() => pair.dispose());
    await expect(startEspecP300Emulator({ listen: pair.device, options: { adress: 1 } })).rejects.toThrow(
      /unknown option "adress"; this emulator takes .*address/,
    );
  });
});
