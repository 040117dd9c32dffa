// readModbusLinkSettings (unit from the URL or the options, timings) and ModbusChamberLink against the
// watlow/f4 emulator over a named memory pair: the shared bus lease, attach/detach, link events.
import { afterEach, describe, expect, it } from "vitest";
import type { LinkEvent } from "../../../drivers/capabilities.js";
import { ChamberOptionReader } from "../../../drivers/common/chamber-options.js";
import type { ChamberSession } from "../../../drivers/common/chamber-session.js";
import {
  type ModbusChamberController,
  ModbusChamberLink,
  type ModbusLinkSettings,
  readModbusLinkSettings,
} from "../../../drivers/common/modbus-chamber-link.js";
import { F4_REGISTERS, startWatlowF4Emulator } from "../../../drivers/emulators/watlow-f4-emulator.js";
import { createMemoryPair } from "../../../protocols/index.js";
import type { ModbusDevice } from "../../../protocols/modbus/modbus-bus.js";
import { sharedModbusBuses } from "../../../protocols/modbus/modbus-bus-pool.js";
import { thrownMessage } from "../../support/thrown.js";
import { eventually, rejection } from "../../support/wait.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const EXAMPLE = "serial:///dev/serial/by-id/<adapter>?baud=19200&unit=1";
const DEFAULTS = { exampleUrl: EXAMPLE, units: [1, 247] as [number, number], timeoutMs: 300, minGapMs: 30 };

function settingsOf(transport: string, options?: Record<string, unknown>): ModbusLinkSettings {
  return readModbusLinkSettings(
    new ChamberOptionReader({ id: "tc1", driver: "watlow/f4", transport, options }),
    DEFAULTS,
  );
}

const problem = (fn: () => unknown): string => thrownMessage("CHAMBER_BAD_OPTIONS", fn);

const prefix = 'device "tc1" (watlow/f4): ';

describe("readModbusLinkSettings", () => {
  it("fills in unit 1 and the driver's timings when nothing is given", () => {
    expect(settingsOf("serial:///dev/ttyUSB0?baud=19200")).toEqual({
      url: "serial:///dev/ttyUSB0?baud=19200",
      unit: 1,
      timeoutMs: 300,
      minGapMs: 30,
      connectTimeoutMs: 5000,
      retryMs: 2000,
    });
  });

  it("takes the unit from the URL or from options.unit; the same unit in both is fine", () => {
    expect(settingsOf("serial:///dev/ttyUSB0?baud=19200&unit=7").unit).toBe(7);
    expect(settingsOf("tcp://10.0.0.30:502?unit=12").unit).toBe(12);
    expect(settingsOf("serial:///dev/ttyUSB0?baud=19200", { unit: 9 }).unit).toBe(9);
    expect(settingsOf("serial:///dev/ttyUSB0?baud=19200&unit=9", { unit: 9 }).unit).toBe(9);
    expect(settingsOf("serial:///dev/ttyUSB0?baud=19200&unit=009", { unit: 9 }).unit).toBe(9);
  });

  it("reads the URL's unit parameter case-insensitively, as the transport does", () => {
    expect(settingsOf("serial:///dev/ttyUSB0?baud=19200&Unit=5").unit).toBe(5);
    expect(settingsOf("tcp://10.0.0.30:502?UNIT=3").unit).toBe(3);
  });

  it("refuses a unit in the URL that is not a whole number instead of falling back to unit 1", () => {
    for (const raw of ["abc", "1.5", "", "-2"])
      expect(problem(() => settingsOf(`memory://f4?unit=${raw}`))).toBe(
        `${prefix}the transport says unit=${raw}; write the Modbus unit id as a whole number in 1..247`,
      );
  });

  it("refuses two different units, naming both", () => {
    expect(problem(() => settingsOf("serial:///dev/ttyUSB0?baud=19200&unit=7", { unit: 9 }))).toBe(
      `${prefix}the transport says unit=7 but options.unit is 9; keep one`,
    );
  });

  it("refuses units outside the driver's range, from the URL or the options", () => {
    expect(problem(() => settingsOf("serial:///dev/ttyUSB0?baud=19200&unit=248"))).toBe(
      `${prefix}unit 248 is outside 1..247`,
    );
    expect(problem(() => settingsOf("serial:///dev/ttyUSB0?baud=19200&unit=0"))).toBe(
      `${prefix}unit 0 is outside 1..247`,
    );
    expect(problem(() => settingsOf("serial:///dev/ttyUSB0?baud=19200", { unit: 0 }))).toBe(
      `${prefix}options.unit must be an integer in [1, 247], got 0`,
    );
    const tcp = readModbusLinkSettings(
      new ChamberOptionReader({ id: "tc1", driver: "watlow/f4t", transport: "tcp://h:502?unit=0" }),
      {
        ...DEFAULTS,
        units: [0, 255],
      },
    );
    expect(tcp.unit).toBe(0);
  });

  it("requires a transport, showing the driver's example", () => {
    expect(
      problem(() =>
        readModbusLinkSettings(new ChamberOptionReader({ id: "tc1", driver: "watlow/f4" }), DEFAULTS),
      ),
    ).toBe(`${prefix}a transport URL is required, e.g. transport: ${EXAMPLE}`);
  });

  it("takes the timing options in range", () => {
    expect(
      settingsOf("memory://f4", { timeoutMs: 100, minGapMs: 0, connectTimeoutMs: 600_000, retryMs: 10 }),
    ).toMatchObject({ timeoutMs: 100, minGapMs: 0, connectTimeoutMs: 600_000, retryMs: 10 });
  });

  it.each([
    ["timeoutMs", 9, "[10, 60000]"],
    ["timeoutMs", 60_001, "[10, 60000]"],
    ["minGapMs", -1, "[0, 10000]"],
    ["minGapMs", 10_001, "[0, 10000]"],
    ["connectTimeoutMs", 5, "[10, 600000]"],
    ["retryMs", 600_001, "[10, 600000]"],
  ])("refuses options.%s = %j, naming the range", (name, value, range) => {
    expect(problem(() => settingsOf("memory://f4", { [name]: value }))).toBe(
      `${prefix}options.${name} must be a number in ${range}, got ${value}`,
    );
  });

  it("marks its options as known to the driver's reader", () => {
    const o = new ChamberOptionReader({
      id: "tc1",
      driver: "watlow/f4",
      transport: "memory://f4",
      options: { unit: 2, retryMs: 100, rampRate: 5 },
    });
    readModbusLinkSettings(o, DEFAULTS);
    expect(problem(() => o.done())).toBe(
      `${prefix}unknown option "rampRate"; watlow/f4 takes connectTimeoutMs, minGapMs, retryMs, timeoutMs, unit`,
    );
  });
});

/** A controller that identifies by reading the F4 model register and records what the link does with it. */
class FakeController implements ModbusChamberController {
  readonly log: string[] = [];
  readonly identifiedWith: ModbusDevice[] = [];
  readonly attached: Array<{ modbus: ModbusDevice; session: ChamberSession }> = [];
  failWith: Error | undefined;

  async identify(modbus: ModbusDevice): Promise<void> {
    this.identifiedWith.push(modbus);
    const [model] = await modbus.readHoldingRegisters(F4_REGISTERS.model, 1);
    this.log.push(`identify unit ${modbus.unit}: model ${model}`);
    if (this.failWith) throw this.failWith;
  }

  async restore(): Promise<void> {
    this.log.push("restore");
  }

  attach(modbus: ModbusDevice, session: ChamberSession): void {
    this.log.push("attach");
    this.attached.push({ modbus, session });
  }

  detach(): void {
    this.log.push("detach");
  }
}

let lines = 0;
async function line(units: number[] = [1]) {
  const name = `modbus-chamber-link-${process.pid}-${++lines}`;
  const pair = createMemoryPair({ name, reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
  cleanups.push(() => pair.dispose());
  const emu = await startWatlowF4Emulator({ listen: pair.device, options: { unit: units } });
  cleanups.push(() => emu.stop());
  return { pair, url: `memory://${name}` };
}

function link(url: string, unit = 1, events?: LinkEvent[], overrides: Partial<ModbusLinkSettings> = {}) {
  const settings: ModbusLinkSettings = {
    url: `${url}?unit=${unit}`,
    unit,
    timeoutMs: 200,
    minGapMs: 0,
    connectTimeoutMs: 2000,
    retryMs: 50,
    ...overrides,
  };
  const l = new ModbusChamberLink(`tc${unit}`, settings, events ? (e) => events.push(e) : undefined);
  const controller = new FakeController();
  cleanups.push(() => l.close(controller));
  return { link: l, controller };
}

describe("ModbusChamberLink", () => {
  it("connects: leases the line's bus, identifies the controller on its unit, then attaches it", async () => {
    const { pair, url } = await line();
    const lines = sharedModbusBuses.size;
    const { link: l, controller } = link(url);
    expect(l.state).toBe("closed");
    await l.connect(controller);

    expect(controller.log).toEqual(["identify unit 1: model 5270", "attach"]);
    expect(controller.attached).toHaveLength(1);
    expect(controller.attached[0]?.modbus).toBe(controller.identifiedWith[0]);
    expect(controller.attached[0]?.session.state).toBe("ready");
    expect(l.state).toBe("ready");
    expect(sharedModbusBuses.size).toBe(lines + 1);
    expect(pair.host.state).toBe("connected");

    await l.connect(controller);
    expect(controller.log).toEqual(["identify unit 1: model 5270", "attach"]);
    expect(sharedModbusBuses.size).toBe(lines + 1);

    await l.close(controller);
    expect(controller.log).toEqual(["identify unit 1: model 5270", "attach", "detach"]);
    expect(l.state).toBe("closed");
    expect(sharedModbusBuses.size).toBe(lines);
    expect(pair.host.state).toBe("closed");
    expect(controller.attached[0]?.session.state).toBe("closed");
  });

  it("keeps the line open until the last controller on it closes", async () => {
    const { pair, url } = await line([1, 2]);
    const lines = sharedModbusBuses.size;
    const one = link(url, 1);
    const two = link(url, 2);
    await one.link.connect(one.controller);
    await two.link.connect(two.controller);
    expect(two.controller.log).toEqual(["identify unit 2: model 5270", "attach"]);
    expect(sharedModbusBuses.size).toBe(lines + 1);

    await one.link.close(one.controller);
    expect(pair.host.state).toBe("connected");
    expect(two.link.state).toBe("ready");
    expect(sharedModbusBuses.size).toBe(lines + 1);
    const modbus = two.controller.attached[0]?.modbus;
    expect(await modbus?.readHoldingRegisters(F4_REGISTERS.model, 1)).toEqual([5270]);

    await two.link.close(two.controller);
    expect(pair.host.state).toBe("closed");
    expect(sharedModbusBuses.size).toBe(lines);
  });

  it("releases the lease and attaches nothing when identification fails; a later connect() works", async () => {
    const { pair, url } = await line();
    const lines = sharedModbusBuses.size;
    const { link: l, controller } = link(url);
    const wrong = new Error("model 5270 is not the model this test wants");
    controller.failWith = wrong;
    expect(await rejection(l.connect(controller))).toBe(wrong);
    expect(controller.log).toEqual(["identify unit 1: model 5270"]);
    expect(l.state).toBe("closed");
    expect(sharedModbusBuses.size).toBe(lines);
    expect(pair.host.state).toBe("closed");

    controller.failWith = undefined;
    await l.connect(controller);
    expect(controller.log).toEqual(["identify unit 1: model 5270", "identify unit 1: model 5270", "attach"]);
    expect(l.state).toBe("ready");
    expect(sharedModbusBuses.size).toBe(lines + 1);
  });

  it("identifies once and holds one lease when connect() is called again while connecting; close() waits for it", async () => {
    const { pair, url } = await line();
    const lines = sharedModbusBuses.size;
    const { link: l, controller } = link(url);
    const first = l.connect(controller);
    const second = l.connect(controller);
    const closing = l.close(controller);
    await Promise.all([first, second, closing]);
    expect(controller.log).toEqual(["identify unit 1: model 5270", "attach", "detach"]);
    expect(l.state).toBe("closed");
    expect(sharedModbusBuses.size).toBe(lines);
    expect(pair.host.state).toBe("closed");
  });

  it("releases the lease when the line does not come up within connectTimeoutMs", async () => {
    const { pair, url } = await line();
    const lines = sharedModbusBuses.size;
    pair.unplug();
    const { link: l, controller } = link(url, 1, undefined, { connectTimeoutMs: 50 });
    const err = await rejection(l.connect(controller));
    expect(err.code).toBe("TRANSPORT_OPEN_FAILED");
    expect(controller.log).toEqual([]);
    expect(l.state).toBe("closed");
    expect(sharedModbusBuses.size).toBe(lines);
    expect(pair.host.state).toBe("closed");
  });

  it("forwards link events: lost on a drop, restored after identify and restore on the way back", async () => {
    const { pair, url } = await line();
    const events: LinkEvent[] = [];
    const { link: l, controller } = link(url, 1, events);
    await l.connect(controller);
    expect(events).toEqual([]);

    pair.unplug();
    await eventually(() => l.state === "link-down", "the link to see the drop");
    // Events name the line (the shared transport), not the unit on it.
    expect(events).toEqual([
      { kind: "lost", transport: url, reason: `${url} disconnected: memory cable unplugged` },
    ]);

    pair.plug();
    await eventually(() => l.state === "ready", "the controller to be taken over again");
    expect(controller.log.slice(-2)).toEqual(["identify unit 1: model 5270", "restore"]);
    expect(controller.log.filter((entry) => entry === "attach")).toHaveLength(1);
    expect(events.map((e) => e.kind)).toEqual(["lost", "restored"]);
    expect(events[1]).toEqual({ kind: "restored", transport: url });
  });

  it("closing a link that never connected only detaches the controller", async () => {
    const { link: l, controller } = link("memory://never-created");
    const lines = sharedModbusBuses.size;
    await l.close(controller);
    expect(controller.log).toEqual(["detach"]);
    expect(l.state).toBe("closed");
    expect(sharedModbusBuses.size).toBe(lines);
  });
});
