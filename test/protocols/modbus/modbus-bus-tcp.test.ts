import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ModbusBus } from "../../../protocols/modbus/modbus-bus.js";
import { createTransport } from "../../../protocols/transport/create-transport.js";
import type { Transport } from "../../../protocols/transport/transport.js";
import { ModbusResponder } from "../support/modbus-responder.js";
import { waitForState } from "../support/transport-waits.js";

let server: Server | undefined;
const sockets = new Set<Socket>();
let transport: Transport | undefined;
let bus: ModbusBus | undefined;

afterEach(async () => {
  bus?.dispose();
  await transport?.close();
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Starts a Modbus TCP responder on 127.0.0.1 and returns its port; `setup` configures each connection's units. */
async function listen(setup: (responder: ModbusResponder) => void): Promise<number> {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    setup(new ModbusResponder(socket, "tcp"));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("ModbusBus over Modbus TCP", () => {
  it("reads floats with the low word first, writes, and matches replies by transaction id", async () => {
    let responder: ModbusResponder | undefined;
    const port = await listen((r) => {
      responder = r;
      const unit = r.addUnit(1);
      unit.holding.set(2820, 0x0000);
      unit.holding.set(2821, 0x41c8);
    });
    transport = createTransport(`tcp://127.0.0.1:${port}`);
    await transport.open();
    bus = new ModbusBus(transport);
    expect(bus.framing).toBe("tcp");
    // The responder runs in this process: under load it may take far longer than a device would.
    const f4t = bus.device({ unit: 1, timeoutMs: 5000 });
    expect(await f4t.readHoldingRegisters(2820, 2)).toEqual([0x0000, 0x41c8]);
    await f4t.writeRegisters(2782, [0x0000, 0x4220]);
    expect(responder?.units.get(1)?.holding.get(2783)).toBe(0x4220);

    // A reply that comes after its timeout carries an old transaction id and is dropped, even when it
    // lands while the next request waits (no quiet period on TCP). The responder holds it back until
    // that next request arrives, so the order does not hang on timers.
    const unit = responder!.units.get(1)!;
    unit.faults.push({ kind: "hold" }, { kind: "release-held" });
    unit.holding.set(100, 1111);
    const impatient = bus.device({ unit: 1, timeoutMs: 40 });
    await expect(impatient.readHoldingRegisters(100, 1)).rejects.toMatchObject({ code: "MODBUS_TIMEOUT" });
    unit.holding.set(100, 2222);
    expect(await f4t.readHoldingRegisters(100, 1)).toEqual([2222]);
    // The late reply is one whole ADU (MBAP 7 + fc, byte count, one register), however TCP split it.
    expect(bus.stats.strayBytes).toBe(11);
    expect(bus.stats.timeouts).toBe(1);
  });

  it("takes a reply that arrived while the event loop stalled past the timeout", async () => {
    const port = await listen((r) => {
      const unit = r.addUnit(1);
      unit.holding.set(7, 4242);
      unit.faults.push({ kind: "stall-after-reply", ms: 150 });
    });
    transport = createTransport(`tcp://127.0.0.1:${port}`);
    await transport.open();
    bus = new ModbusBus(transport);
    expect(await bus.device({ unit: 1, timeoutMs: 20 }).readHoldingRegisters(7, 1)).toEqual([4242]);
    expect(bus.stats.timeouts).toBe(0);
  });

  it("recovers after the server drops the connection", async () => {
    const port = await listen((r) => {
      r.addUnit(5);
    });
    transport = createTransport(`tcp://127.0.0.1:${port}`, {
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    await transport.open();
    bus = new ModbusBus(transport);
    const device = bus.device({ unit: 5, timeoutMs: 200 });
    expect(await device.readInputRegisters(9, 1)).toEqual([9]);
    const dropped = waitForState(transport, "disconnected");
    for (const socket of sockets) socket.destroy();
    await dropped;
    await transport.open({ signal: AbortSignal.timeout(2000) });
    expect(await device.readInputRegisters(10, 1)).toEqual([10]);
    expect(bus.stats.clientsCreated).toBe(2);
  });
});
