import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../../drivers/clock.js";
import { EaPsbModbus } from "../../../drivers/ea/ea-psb-modbus.js";
import {
  type EaPsbModbusEmulator,
  startEaPsbModbusEmulator,
} from "../../../drivers/emulators/ea-psb-modbus-emulator.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { eventually, rejection } from "../../support/wait.js";
import { context, deviceConfig, readUntil } from "./emulator-fixtures.js";

const NOMINAL = { voltageV: 60, currentA: 60, powerW: 1500 };

describe("ea/psb-modbus against its emulator", () => {
  let pty: PtyPair | undefined;
  let emulator: EaPsbModbusEmulator | undefined;
  let psb: EaPsbModbus | undefined;

  afterEach(async () => {
    await psb?.close().catch(() => undefined);
    await emulator?.stop();
    await pty?.stop();
    psb = undefined;
    emulator = undefined;
    pty = undefined;
  });

  async function overTcp(speed: number, initialSoc: number, emulatorOptions: Record<string, unknown> = {}) {
    const clock = new ScaledClock(speed);
    emulator = await startEaPsbModbusEmulator({
      listen: "tcp://127.0.0.1:0",
      clock,
      options: { initialSoc, ...emulatorOptions },
    });
    psb = new EaPsbModbus(
      deviceConfig("ea/psb-modbus", `${emulator.listen}?unit=1`, {
        nominal: NOMINAL,
        timeoutMs: 200,
        retryMs: 50,
      }),
      context(clock),
    );
    await psb.connect();
    return clock;
  }

  async function overPty(
    speed: number,
    initialSoc: number,
    emulatorOptions: Record<string, unknown> = {},
    baud = 115_200,
  ) {
    pty = await startPtyPair();
    const clock = new ScaledClock(speed);
    emulator = await startEaPsbModbusEmulator({
      listen: `serial://${pty.b}?baud=${baud}`,
      clock,
      options: { initialSoc, ...emulatorOptions },
    });
    psb = new EaPsbModbus(
      deviceConfig("ea/psb-modbus", `serial://${pty.a}?baud=${baud}&unit=1`, {
        nominal: NOMINAL,
        timeoutMs: 300,
        retryMs: 100,
      }),
      context(clock),
    );
    await psb.connect();
    return clock;
  }

  it("over loopback TCP: discharges to the cut-off in the sink quadrant, tapers in CV, steps a profile", async () => {
    await overTcp(1000, 0.3);
    const ch = psb!.channels[0]!;
    expect(psb!.deviceType).toBe("PSB 10060-60");
    await ch.apply({ mode: "cc", currentA: -6, minV: 2.5, maxV: 4.2 });
    const discharge = await readUntil(ch, (r) => r.voltageV <= 2.51, "the 2.5 V cut-off");
    // 0xCCCC steps of 60 A: about 1.1 mA resolution.
    expect(discharge[0]!.currentA).toBeCloseTo(-6, 2);
    await ch.apply({ mode: "cv", voltageV: 3.7, chargeLimitA: 3, dischargeLimitA: 6 });
    const taper = await readUntil(ch, (r) => r.voltageV >= 3.69 && r.currentA < 0.3, "the CV taper");
    expect(taper.some((r) => r.currentA > 2.99)).toBe(true);
    await ch.apply({
      mode: "profile",
      points: [
        { tS: 0, currentA: 2 },
        { tS: 30, currentA: -2 },
        { tS: 60, currentA: 0.5 },
      ],
      minV: 2.5,
      maxV: 4.2,
    });
    await eventually(() => !ch.steppingProfile, "the profile's last point");
    expect(emulator!.setValues.sourceCurrentA).toBeCloseTo(0.5, 2);
    expect(emulator!.setValues.sinkCurrentA).toBe(0);
    expect((await ch.read()).currentA).toBeCloseTo(0.5, 2);
    await ch.toSafeState();
    expect(emulator!.outputOn).toBe(false);
  });

  it("over a pty: every Modbus fault knob gives a typed error and the channel ends in safe state", async () => {
    await overPty(50, 0.5);
    const ch = psb!.channels[0]!;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ timeout: { next: 1 } }, "MODBUS_TIMEOUT"],
      [{ badCrc: { next: 1 } }, "MODBUS_CRC_ERROR"],
      [{ wrongUnit: { next: 1 } }, "MODBUS_TIMEOUT"],
      [{ exception: { next: 1, code: 6 } }, "MODBUS_EXCEPTION"],
      [{ garbage: { next: 1, bytes: 9 } }, "MODBUS_"],
      [{ lateReply: { next: 1, delayMs: 400 } }, "MODBUS_TIMEOUT"],
    ];
    for (const [knob, code] of cases) {
      await ch.apply({ mode: "cc", currentA: 1.5, minV: 2.5, maxV: 4.2 });
      emulator!.faults.set(knob);
      const err = await rejection(ch.read());
      expect(err.code, `${JSON.stringify(knob)}: ${err.message}`).toMatch(new RegExp(`^${code}`));
      // Nothing stray is taken as an answer: the next reading is the emulator's own.
      const reading = await ch.read();
      const truth = emulator!.supply.measure();
      expect(reading.currentA).toBeCloseTo(truth.currentA, 2);
      expect(reading.voltageV).toBeCloseTo(truth.voltageV, 2);
      await ch.toSafeState();
      expect(emulator!.outputOn).toBe(false);
    }
    // A fault while applying: the driver switches the output off itself.
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    emulator!.faults.set({ exception: { next: 1, code: 4 } });
    expect((await rejection(ch.apply({ mode: "cc", currentA: -1, minV: 2.5, maxV: 4.2 }))).code).toBe(
      "MODBUS_EXCEPTION",
    );
    expect(emulator!.outputOn).toBe(false);
    expect(ch.isOutputOn).toBe(false);
    // The disconnect knob: a deaf line for 300 ms, then everything works again.
    emulator!.faults.set({ disconnect: { next: 1, forMs: 300 } });
    expect((await rejection(ch.read())).code).toBe("MODBUS_TIMEOUT");
    await new Promise((resolve) => setTimeout(resolve, 350));
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    expect(emulator!.outputOn).toBe(true);
    await ch.toSafeState();
    expect(emulator!.outputOn).toBe(false);
  });

  it("reports an instrument alarm as CYCLER_DEVICE_ALARM", async () => {
    await overTcp(50, 0.5);
    const ch = psb!.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    emulator!.alarm(true);
    expect((await rejection(ch.read())).code).toBe("CYCLER_DEVICE_ALARM");
    expect(emulator!.outputOn).toBe(false);
    emulator!.alarm(false);
    await ch.toSafeState();
    expect((await ch.read()).currentA).toBe(0);
  });

  it("an instrument left in U/I/R: the driver sets U/I/P at connect, so the resistance does not limit the current", async () => {
    // 0.5 Ω from 4.2 V to a cell near 3.7 V would hold the charge near 1 A in U/I/R.
    await overTcp(50, 0.5, { operationMode: "UIR", resistanceOhm: 0.5 });
    expect(emulator!.operationMode).toBe("UIP");
    const ch = psb!.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 3, minV: 2.5, maxV: 4.2 });
    expect((await ch.read()).currentA).toBeCloseTo(3, 2);
    await ch.toSafeState();
  });

  it("the emulator in U/I/R limits the current through its resistance set value", async () => {
    await overTcp(50, 0.5, { operationMode: "UIR", resistanceOhm: 0.5 });
    emulator!.setOperationMode("UIR");
    const ch = psb!.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 3, minV: 2.5, maxV: 4.2 });
    const reading = await ch.read();
    expect(reading.currentA).toBeGreaterThan(0.2);
    expect(reading.currentA).toBeLessThan(2);
    await ch.toSafeState();
  });

  it("a latched OVP is reported by name on every poll and stays latched: the driver never acknowledges it", async () => {
    await overTcp(50, 0.5);
    const ch = psb!.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    emulator!.trip("OVP");
    expect(emulator!.outputOn).toBe(false);
    for (let k = 0; k < 3; k++) {
      const err = await rejection(ch.read());
      expect(err.code).toBe("CYCLER_DEVICE_ALARM");
      expect(err.message).toMatch(/\bOVP\b/);
    }
    expect(emulator!.alarms).toEqual(["OVP"]);
    expect(emulator!.acknowledgements).toBe(0);
    // The operator acknowledges at the instrument; then the channel reads again.
    emulator!.acknowledge();
    await ch.toSafeState();
    expect((await ch.read()).currentA).toBe(0);
  });

  it("over a pty with link timing at 19200 baud: transactions take the wire's time", async () => {
    await overPty(10, 0.5, { linkTiming: true, turnaroundMs: 5 }, 19_200);
    const ch = psb!.channels[0]!;
    // FC03 of 5 registers: 8 + 15 bytes of 11 bits (13.2 ms), t3.5 after each frame (2 × 2.0 ms) and
    // 5 ms turnaround ≈ 22.2 ms, plus the host's own t3.5 before each request. No read may be faster;
    // on a loaded machine many are slower, so reads go on (up to 50) until one comes within the bound.
    const times: number[] = [];
    while (times.length < 10 || (Math.min(...times) >= 60 && times.length < 50)) {
      const started = performance.now();
      await ch.read();
      times.push(performance.now() - started);
    }
    expect(Math.min(...times)).toBeGreaterThan(21);
    expect(Math.min(...times)).toBeLessThan(60);
  });

  it("unplug and replug the pty: output-unknown meanwhile, then remote on and output off again", async () => {
    await overPty(50, 0.5);
    const ch = psb!.channels[0]!;
    await ch.apply({ mode: "cc", currentA: 2, minV: 2.5, maxV: 4.2 });
    expect(emulator!.outputOn).toBe(true);
    await pty!.unplug();
    await eventually(() => psb!.linkState === "link-down", "the lost link");
    expect((await rejection(ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 }))).code).toBe(
      "CYCLER_OUTPUT_UNKNOWN",
    );
    expect((await rejection(ch.toSafeState())).code).toBe("CYCLER_OUTPUT_UNKNOWN");
    await pty!.replug();
    await psb!.session.whenReady(15_000);
    expect(emulator!.outputOn).toBe(false);
    expect(emulator!.remote).toBe(true);
    await ch.apply({ mode: "cc", currentA: 1, minV: 2.5, maxV: 4.2 });
    expect(emulator!.setValues.sourceCurrentA).toBeCloseTo(1, 3);
    await ch.toSafeState();
  });
});
