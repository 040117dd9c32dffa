import { EventEmitter } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import ModbusSerial from "modbus-serial";
import { afterEach, describe, expect, it } from "vitest";
import { TransportModbusPort } from "../../../protocols/modbus/modbus-serial-port.js";
import { createMemoryPair, type MemoryPair } from "../../../protocols/transport/memory-transport.js";
import { ModbusResponder } from "../support/modbus-responder.js";

const ModbusRTU = ModbusSerial.default;
const PROTOCOLS = new URL("../../../protocols/", import.meta.url);

let pair: MemoryPair | undefined;
afterEach(async () => {
  await pair?.dispose();
  pair = undefined;
});

/** Lines of TypeScript under protocols/ that declare or reach a `_`-prefixed member. */
function privateMemberUses(): string[] {
  const access = /\??\.\s*_[A-Za-z]\w*|\[\s*["'`]_[A-Za-z]/;
  const declaration =
    /^\s*(?:(?:private|protected|public|readonly|declare|static|override)\s+)*_[A-Za-z]\w*\s*[!?]?\s*[=:;(]/;
  const found: string[] = [];
  for (const file of readdirSync(PROTOCOLS, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".ts")) continue;
    readFileSync(new URL(file, PROTOCOLS), "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (access.test(line) || declaration.test(line))
          found.push(`protocols/${file}:${i + 1}: ${line.trim()}`);
      });
  }
  return found;
}

describe("TransportModbusPort and modbus-serial", () => {
  it("touches no private (`_`-prefixed) member of modbus-serial: none is declared or reached under protocols/", () => {
    expect(privateMemberUses()).toEqual([]);
  });

  it("serves a plain ModbusRTU through its public API, holding none of modbus-serial's bookkeeping itself", async () => {
    pair = createMemoryPair();
    new ModbusResponder(pair.device, "rtu").addUnit(3, (address) => address + 1);
    await Promise.all([pair.host.open(), pair.device.open()]);
    const problems: unknown[] = [];
    const port = new TransportModbusPort(pair.host, "rtu", {
      badReply: (error) => problems.push(error),
      stray: (count) => problems.push(`${count} stray bytes`),
      writeFailed: (error) => problems.push(error),
    });
    const emitterKeys = new Set(Object.keys(new EventEmitter()));
    expect(Object.keys(port).filter((key) => key.startsWith("_") && !emitterKeys.has(key))).toEqual([]);
    const client = new ModbusRTU(port);
    await new Promise<void>((resolve, reject) =>
      client.open((err: unknown) => (err ? reject(err) : resolve())),
    );
    client.setTimeout(1000);
    client.setID(3);
    expect((await client.readHoldingRegisters(10, 2)).data).toEqual([11, 12]);
    expect((await client.readInputRegisters(20, 1)).data).toEqual([21]);
    expect(problems).toEqual([]);
  });
});
