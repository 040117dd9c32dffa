import { afterEach, describe, expect, it } from "vitest";
import { ScpiClient } from "../../../protocols/index.js";
import { eventually, rejection } from "../../support/wait.js";
import { type DaqRig, startRig } from "./daq970a-fixtures.js";

/** Every fault knob of the emulator, as the driver sees it. */
describe("keysight/daq970a fault knobs", () => {
  let rig: DaqRig | undefined;

  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  async function connected(driver: Record<string, unknown> = {}): Promise<DaqRig> {
    rig = await startRig({ driver });
    await rig.daq.connect();
    return rig;
  }

  it("an open thermocouple reads as an open input, the others stay good", async () => {
    const r = await connected();
    r.emulator.faults.set({ openThermocouple: { input: "102" } });
    const scan = await r.daq.temperatureInputs.scan();
    expect(scan.get("102")).toMatchObject({ ok: false, fault: "open" });
    expect(scan.get("101")).toEqual({ ok: true, temperatureC: 25 });
    r.emulator.faults.set({ openThermocouple: undefined });
    expect((await r.daq.temperatureInputs.scan()).get("102")).toEqual({ ok: true, temperatureC: 25 });
  });

  it("an overload below range reads as overload, one above range as open (the instrument cannot tell)", async () => {
    const r = await connected();
    r.emulator.faults.set({ overload: { input: "105", sign: -1 } });
    expect((await r.daq.temperatureInputs.scan()).get("105")).toMatchObject({ ok: false, fault: "overload" });
    r.emulator.faults.set({ overload: { input: "105", sign: 1 } });
    const above = (await r.daq.temperatureInputs.scan()).get("105");
    expect(above).toMatchObject({ ok: false, fault: "open" });
    expect(above?.ok === false && above.detail).toContain("above the type-K range");
  });

  it("no reply rejects the scan with SCPI_TIMEOUT, and the next scan works", async () => {
    const r = await connected({ timeoutMs: 300, scanMsPerInput: 100 });
    r.emulator.faults.set({ timeout: { next: 1 } });
    expect(await rejection(r.daq.temperatureInputs.scan())).toMatchObject({ code: "SCPI_TIMEOUT" });
    expect((await r.daq.temperatureInputs.scan()).get("101")).toEqual({ ok: true, temperatureC: 25 });
  });

  it("a garbage reply rejects the scan with DAQ_BAD_SCAN, and the next scan works", async () => {
    const r = await connected();
    r.emulator.faults.set({ garbage: { next: 1, bytes: 30 } });
    expect(await rejection(r.daq.temperatureInputs.scan())).toMatchObject({ code: "DAQ_BAD_SCAN" });
    expect((await r.daq.temperatureInputs.scan()).get("101")).toEqual({ ok: true, temperatureC: 25 });
  });

  it("a scan slower than the allowance times out; within it, it is read", async () => {
    const r = await connected({ timeoutMs: 300, scanMsPerInput: 100 });
    r.emulator.faults.set({ slowScan: { next: 1, delayMs: 1500 } });
    expect(await rejection(r.daq.temperatureInputs.scan())).toMatchObject({ code: "SCPI_TIMEOUT" });
    // The instrument answers in order: until the late scan is out, the client's resynchronisation waits.
    await eventually(() => goodScan(r), "a good scan after the slow one", 10_000);

    await r.daq.close();
    const patient = await connected({ timeoutMs: 2000, scanMsPerInput: 100 });
    patient.emulator.faults.set({ slowScan: { next: 1, delayMs: 300 } });
    expect((await patient.daq.temperatureInputs.scan()).get("105")).toEqual({ ok: true, temperatureC: 25 });
  });

  it("the disconnect knob cuts the link: that scan times out, a later one reads again", async () => {
    const r = await connected({ timeoutMs: 300 });
    r.emulator.faults.set({ disconnect: { next: 1, forMs: 200 } });
    expect(await rejection(r.daq.temperatureInputs.scan())).toMatchObject({ code: "SCPI_TIMEOUT" });
    // A cut memory link is deaf, not dropped: the driver keeps its session and answers once it hears again.
    await eventually(() => goodScan(r), "a good scan after the cut", 10_000);
  });

  it("without the thermocouple check an open input reads noise, not overload (why the driver turns it on)", async () => {
    rig = await startRig();
    const scpi = new ScpiClient(rig.pair!.host, { timeoutMs: 2000 });
    await rig.pair!.host.open();
    try {
      await scpi.write("CONF:TEMP TC,K,(@101)");
      rig.emulator.faults.set({ openThermocouple: { input: "101" } });
      const value = Number(await scpi.query("READ?"));
      expect(Math.abs(value)).toBeLessThan(1e3);
      // Checking before CONF is undone by CONF (the channel's earlier settings are reset).
      await scpi.write("TEMP:TRAN:TC:CHEC ON,(@101)");
      await scpi.write("CONF:TEMP TC,K,(@101)");
      expect(Math.abs(Number(await scpi.query("READ?")))).toBeLessThan(1e3);
      await scpi.write("SENSe:TEMPerature:TRANsducer:TCouple:CHECk ON,(@101)");
      expect(Number(await scpi.query("READ?"))).toBe(9.9e37);
      await scpi.write("TEMP:TRAN:TC:CHEK ON,(@101)");
      expect(await scpi.query("SYST:ERR?")).toBe('-113,"Undefined header"');
      expect(await scpi.query("ROUT:SCAN?")).toBe("#16(@101)");
    } finally {
      scpi.dispose();
    }
  });
});

async function goodScan(r: DaqRig): Promise<boolean> {
  try {
    return (await r.daq.temperatureInputs.scan()).get("101")?.ok === true;
  } catch {
    return false;
  }
}
