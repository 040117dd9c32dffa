import { afterEach, describe, expect, it } from "vitest";
import { ModbusBus } from "../../../protocols/modbus/modbus-bus.js";
import { createTransport } from "../../../protocols/transport/create-transport.js";
import type { Transport } from "../../../protocols/transport/transport.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { ModbusResponder } from "../support/modbus-responder.js";

let pty: PtyPair | undefined;
const transports: Transport[] = [];
let bus: ModbusBus | undefined;
afterEach(async () => {
  bus?.dispose();
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await pty?.stop();
});

describe("ModbusBus over RTU on a socat pty pair", () => {
  it("polls two unit ids concurrently for 10,000 transactions without a mix-up", async () => {
    pty = await startPtyPair();
    const host = createTransport(`serial://${pty.a}?baud=115200`);
    const device = createTransport(`serial://${pty.b}?baud=115200`);
    transports.push(host, device);
    const responder = new ModbusResponder(device, "rtu", false);
    const units = [1, 2] as const;
    for (const id of units) responder.addUnit(id, (a) => (id * 10000 + a) & 0xffff);
    await Promise.all([host.open(), device.open()]);
    // PTYs have no baud rate, so the t3.5 silence a real 115200 line needs is left out here.
    bus = new ModbusBus(host, { timeoutMs: 1000, frameGapMs: 0 });
    const devices = units.map((id) => bus!.device({ unit: id }));
    const total = 10_000;
    let issued = 0;
    let mismatches = 0;
    let writes = 0;
    const worker = async (index: number) => {
      const id = units[index % 2]!;
      const handle = devices[index % 2]!;
      while (issued < total) {
        const n = issued++;
        if (n % 10 === 0) {
          await handle.writeRegister(1000 + (n % 50), n & 0xffff);
          writes++;
          continue;
        }
        const address = (n * 7) % 500;
        const quantity = 1 + (n % 8);
        const values = await handle.readHoldingRegisters(address, quantity);
        const expected = Array.from({ length: quantity }, (_, i) => (id * 10000 + address + i) & 0xffff);
        if (values.join() !== expected.join()) mismatches++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: 6 }, (_, i) => worker(i)));
    const elapsed = performance.now() - started;
    expect(mismatches).toBe(0);
    expect(writes).toBe(total / 10);
    expect(bus.stats).toMatchObject({ transactions: total, timeouts: 0, badReplies: 0, strayBytes: 0 });
    expect(responder.overlaps).toBe(0);
    console.log(
      `socat pty: ${total} transactions in ${elapsed.toFixed(0)} ms (${((total / elapsed) * 1000).toFixed(0)}/s)`,
    );
  }, 120_000);

  it("keeps polling across an unplug and replug of the pty", async () => {
    pty = await startPtyPair();
    const reconnect = { initialDelayMs: 20, maxDelayMs: 100 };
    const host = createTransport(`serial://${pty.a}?baud=19200`, { reconnect });
    const device = createTransport(`serial://${pty.b}?baud=19200`, { reconnect });
    transports.push(host, device);
    new ModbusResponder(device, "rtu").addUnit(1);
    await Promise.all([host.open(), device.open()]);
    bus = new ModbusBus(host);
    const watlow = bus.device({ unit: 1, timeoutMs: 200, minGapMs: 30 });
    expect(await watlow.readHoldingRegisters(100, 1)).toEqual([100]);
    await pty.unplug();
    const deadline = performance.now() + 3000;
    while ((host.state === "connected" || device.state === "connected") && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await expect(watlow.readHoldingRegisters(100, 1)).rejects.toMatchObject({
      code: "TRANSPORT_NOT_CONNECTED",
    });
    await pty.replug();
    await Promise.all([
      host.open({ signal: AbortSignal.timeout(3000) }),
      device.open({ signal: AbortSignal.timeout(3000) }),
    ]);
    expect(await watlow.readHoldingRegisters(104, 1)).toEqual([104]);
  });
});
