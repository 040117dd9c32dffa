import { afterEach, describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import { ModbusBus, type ModbusBusOptions } from "../../../protocols/modbus/modbus-bus.js";
import { ModbusExceptionError } from "../../../protocols/modbus/modbus-errors.js";
import { createMemoryPair, type MemoryPair } from "../../../protocols/transport/memory-transport.js";
import { ModbusResponder } from "../support/modbus-responder.js";
import { waitForState } from "../support/transport-waits.js";

let pair: MemoryPair | undefined;
let bus: ModbusBus | undefined;
afterEach(async () => {
  bus?.dispose();
  await pair?.dispose();
  bus = undefined;
  pair = undefined;
});

async function rtuSetup(options: ModbusBusOptions = {}, chunkSize?: number) {
  pair = createMemoryPair({ chunkSize, reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
  const responder = new ModbusResponder(pair.device, "rtu");
  await Promise.all([pair.host.open(), pair.device.open()]);
  bus = new ModbusBus(pair.host, options);
  return { responder, bus };
}

async function errorOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

describe("ModbusBus over RTU", () => {
  it("reads and writes every supported function code", async () => {
    const { responder, bus } = await rtuSetup({}, 2);
    const unit = responder.addUnit(7, (a) => (a * 3) & 0xffff);
    const device = bus.device({ unit: 7 });
    expect(await device.readHoldingRegisters(100, 3)).toEqual([300, 303, 306]);
    expect(await device.readInputRegisters(8, 1)).toEqual([24]);
    expect(await device.readCoils(0, 10)).toEqual([
      true,
      false,
      false,
      true,
      false,
      false,
      true,
      false,
      false,
      true,
    ]);
    expect(await device.readDiscreteInputs(1, 2)).toEqual([false, false]);
    await device.writeRegister(300, 0xff38);
    await device.writeRegisters(2782, [0x0000, 0x41c8]);
    await device.writeCoil(405, true);
    await device.writeCoils(20, [true, false, true]);
    expect(unit.holding.get(300)).toBe(0xff38);
    expect([unit.holding.get(2782), unit.holding.get(2783)]).toEqual([0, 0x41c8]);
    expect(unit.coils.get(405)).toBe(true);
    expect([unit.coils.get(20), unit.coils.get(21), unit.coils.get(22)]).toEqual([true, false, true]);
    expect(await device.readHoldingRegisters(300, 1)).toEqual([0xff38]);
  });

  it("times out naming the request, and the next request still works", async () => {
    const { responder, bus } = await rtuSetup();
    const unit = responder.addUnit(1);
    const device = bus.device({ unit: 1, timeoutMs: 50 });
    unit.faults.push({ kind: "silent" });
    const started = performance.now();
    const error = await errorOf(device.readHoldingRegisters(100, 1));
    expect(hasErrorCode(error, "MODBUS_TIMEOUT")).toBe(true);
    expect(error.message).toMatch(/^Timeout after 50 ms \[unit=1 fc=03 addr=100 n=1\] on memory:\/\//);
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
    expect(await device.readHoldingRegisters(100, 1)).toEqual([100]);
    expect(bus.stats.timeouts).toBe(1);
  });

  it("turns an exception reply into a typed error with code and name", async () => {
    const { responder, bus } = await rtuSetup();
    responder.addUnit(3).faults.push({ kind: "exception", code: 2 });
    const device = bus.device({ unit: 3 });
    const error = await errorOf(device.readHoldingRegisters(9999, 2));
    expect(error).toBeInstanceOf(ModbusExceptionError);
    expect(error).toMatchObject({
      code: "MODBUS_EXCEPTION",
      exceptionCode: 2,
      exceptionName: "ILLEGAL DATA ADDRESS",
    });
    expect(error.message).toMatch(
      /^Modbus exception 2 \(ILLEGAL DATA ADDRESS\) \[unit=3 fc=03 addr=9999 n=2\]/,
    );
    expect(await device.readHoldingRegisters(1, 1)).toEqual([1]);
  });

  it("reports a bad CRC at once, naming the request", async () => {
    const { responder, bus } = await rtuSetup({ drainMs: 10 });
    responder.addUnit(1).faults.push({ kind: "bad-crc" });
    const device = bus.device({ unit: 1, timeoutMs: 1000 });
    const started = performance.now();
    const error = await errorOf(device.readHoldingRegisters(100, 1));
    expect(error.code).toBe("MODBUS_CRC_ERROR");
    expect(error.message).toMatch(/CRC error in reply \[unit=1 fc=03 addr=100 n=1\]/);
    expect(performance.now() - started).toBeLessThan(500);
    expect(await device.readHoldingRegisters(100, 1)).toEqual([100]);
  });

  it("rejects a reply with the wrong register count as a bad frame", async () => {
    const { responder, bus } = await rtuSetup({ drainMs: 10 });
    responder.addUnit(1).faults.push({ kind: "wrong-count" });
    const error = await errorOf(bus.device({ unit: 1 }).readHoldingRegisters(10, 3));
    expect(error.code).toBe("MODBUS_BAD_FRAME");
    expect(error.message).toMatch(/2 registers for a request of 3/);
  });

  it("drains a late reply so it never answers the next request of the same shape", async () => {
    const { responder, bus } = await rtuSetup({ drainMs: 100 });
    const unit = responder.addUnit(1);
    const device = bus.device({ unit: 1, timeoutMs: 30 });
    unit.holding.set(100, 1111);
    unit.faults.push({ kind: "delay", ms: 80 });
    expect((await errorOf(device.readHoldingRegisters(100, 1))).code).toBe("MODBUS_TIMEOUT");
    unit.holding.set(100, 2222);
    expect(await device.readHoldingRegisters(100, 1)).toEqual([2222]);
    const [late, next] = responder.log;
    expect(next!.receivedAt).toBeGreaterThan(late!.repliedAt! + 99);
    expect(bus.stats.strayBytes).toBe(7);
  });

  it("would take the late reply without the quiet period (why drainMs exists)", async () => {
    const { responder, bus } = await rtuSetup({ drainMs: 0 });
    const unit = responder.addUnit(1);
    const device = bus.device({ unit: 1, timeoutMs: 30 });
    unit.holding.set(100, 1111);
    unit.faults.push({ kind: "delay", ms: 60 }, { kind: "delay", ms: 60 });
    await errorOf(device.readHoldingRegisters(100, 1));
    unit.holding.set(100, 2222);
    const patient = bus.device({ unit: 1, timeoutMs: 500 });
    expect(await patient.readHoldingRegisters(100, 1)).toEqual([1111]);
  });

  it("paces transactions per device and lets a ready device go first", async () => {
    const { responder, bus } = await rtuSetup();
    responder.addUnit(1);
    responder.addUnit(2);
    const slow = bus.device({ unit: 1, minGapMs: 30 });
    const fast = bus.device({ unit: 2 });
    const started = performance.now();
    const slowReads = Array.from({ length: 4 }, () => slow.readHoldingRegisters(0, 1));
    const fastReads: Promise<number[]>[] = [];
    for (let i = 0; i < 20; i++) fastReads.push(fast.readHoldingRegisters(1, 1));
    await Promise.all([...slowReads, ...fastReads]);
    const slowTimes = responder.log.filter((e) => e.unit === 1).map((e) => e.receivedAt);
    for (let i = 1; i < slowTimes.length; i++)
      expect(slowTimes[i]! - slowTimes[i - 1]!).toBeGreaterThanOrEqual(29);
    const lastFast = Math.max(...responder.log.filter((e) => e.unit === 2).map((e) => e.receivedAt));
    expect(lastFast - started).toBeLessThan(slowTimes.at(-1)! - started);
    expect(responder.overlaps).toBe(0);
  });

  it("fails fast while unplugged and builds a fresh client after reconnecting", async () => {
    const { responder, bus } = await rtuSetup();
    responder.addUnit(1).faults.push({ kind: "delay", ms: 1000 });
    const device = bus.device({ unit: 1, timeoutMs: 5000 });
    const pending = errorOf(device.readHoldingRegisters(0, 1));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    pair!.unplug();
    expect((await pending).code).toBe("TRANSPORT_DISCONNECTED");
    expect(performance.now() - started).toBeLessThan(500);
    expect((await errorOf(device.readHoldingRegisters(0, 1))).code).toBe("TRANSPORT_NOT_CONNECTED");
    const clientsBefore = bus.stats.clientsCreated;
    pair!.plug();
    await waitForState(pair!.host, "connected");
    await waitForState(pair!.device, "connected");
    expect(await device.readHoldingRegisters(5, 1)).toEqual([5]);
    expect(bus.stats.clientsCreated).toBe(clientsBefore + 1);
  });

  it("polls two unit ids concurrently over one line for 10,000 transactions without a mix-up", async () => {
    const { responder, bus } = await rtuSetup();
    const units = [1, 2] as const;
    for (const id of units) responder.addUnit(id, (a) => (id * 10000 + a) & 0xffff);
    const devices = units.map((id) => bus.device({ unit: id, timeoutMs: 1000 }));
    const total = 10_000;
    let issued = 0;
    let mismatches = 0;
    const worker = async (index: number) => {
      const device = devices[index % 2]!;
      const id = units[index % 2]!;
      while (issued < total) {
        const n = issued++;
        const address = (n * 7) % 500;
        const quantity = 1 + (n % 4);
        const values = await device.readHoldingRegisters(address, quantity);
        const expected = Array.from({ length: quantity }, (_, i) => (id * 10000 + address + i) & 0xffff);
        if (values.join() !== expected.join()) mismatches++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: 8 }, (_, i) => worker(i)));
    const elapsed = performance.now() - started;
    expect(mismatches).toBe(0);
    expect(responder.log.length).toBe(total);
    expect(responder.log.filter((e) => e.unit === 1).length).toBe(total / 2);
    expect(responder.overlaps).toBe(0);
    expect(bus.stats).toMatchObject({ transactions: total, timeouts: 0, badReplies: 0, strayBytes: 0 });
    console.log(
      `memory pair: ${total} transactions in ${elapsed.toFixed(0)} ms (${((total / elapsed) * 1000).toFixed(0)}/s)`,
    );
  });
});
