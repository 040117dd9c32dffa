import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ModbusBusPool } from "../../../protocols/modbus/modbus-bus-pool.js";
import { createMemoryPair, type MemoryPair } from "../../../protocols/transport/memory-transport.js";
import { ModbusResponder } from "../support/modbus-responder.js";

let pair: MemoryPair | undefined;
let dir: string | undefined;
afterEach(async () => {
  await pair?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
  pair = undefined;
  dir = undefined;
});

describe("ModbusBusPool", () => {
  it("gives devices on one line the same bus and closes it after the last release", async () => {
    pair = createMemoryPair({ name: "rs485-pool-test" });
    const responder = new ModbusResponder(pair.device, "rtu");
    responder.addUnit(1);
    responder.addUnit(2, (a) => a + 1);
    await pair.device.open();
    const pool = new ModbusBusPool();
    const first = pool.acquire("memory://rs485-pool-test?unit=1");
    const second = pool.acquire("memory://rs485-pool-test?unit=2");
    expect(second.bus).toBe(first.bus);
    expect(pool.size).toBe(1);
    await first.transport.open();
    const [a, b] = await Promise.all([
      first.bus.device({ unit: 1 }).readHoldingRegisters(10, 1),
      second.bus.device({ unit: 2 }).readHoldingRegisters(10, 1),
    ]);
    expect([a, b]).toEqual([[10], [11]]);
    await first.release();
    expect(first.transport.state).toBe("connected");
    await second.release();
    expect(pool.size).toBe(0);
    expect(first.transport.state).toBe("closed");
  });

  it("recognises one serial device behind two names and refuses different settings", async () => {
    dir = await mkdtemp(join(tmpdir(), "cellbench-pool-"));
    const node = join(dir, "ttyUSB1");
    await writeFile(node, "");
    await symlink(node, join(dir, "usb-Watlow_F4-if00"));
    const pool = new ModbusBusPool();
    const byId = pool.acquire(`serial://${join(dir, "usb-Watlow_F4-if00")}?baud=19200`);
    const direct = pool.acquire(`serial://${node}?baud=19200&unit=2`);
    expect(direct.bus).toBe(byId.bus);
    expect(() => pool.acquire(`serial://${node}?baud=9600`)).toThrow(
      /already in use with 19200 baud.*not 9600 baud.*same settings/,
    );
    await byId.release();
    await direct.release();
    expect(pool.size).toBe(0);
  });
});
