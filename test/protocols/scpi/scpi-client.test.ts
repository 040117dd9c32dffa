import { afterEach, describe, expect, it } from "vitest";
import { hasErrorCode } from "../../../protocols/cellbench-error.js";
import { ScpiClient, type ScpiClientOptions } from "../../../protocols/scpi/scpi-client.js";
import { ScpiDeviceError } from "../../../protocols/scpi/scpi-errors.js";
import { createTransport } from "../../../protocols/transport/create-transport.js";
import { createMemoryPair, type MemoryPair } from "../../../protocols/transport/memory-transport.js";
import type { Transport } from "../../../protocols/transport/transport.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { FakeScpiInstrument, type FakeScpiInstrumentOptions } from "../support/fake-scpi-instrument.js";

const IDN = "EA Elektro-Automatik GmbH & Co. KG,PSB 10080-60,2345670001,V2.01";

let pair: MemoryPair | undefined;
let client: ScpiClient | undefined;
afterEach(async () => {
  client?.dispose();
  await pair?.dispose();
  pair = undefined;
  client = undefined;
});

async function setup(
  handle: FakeScpiInstrumentOptions["handle"],
  clientOptions: ScpiClientOptions = {},
  instrumentOptions: Partial<FakeScpiInstrumentOptions> = {},
  chunkSize?: number,
): Promise<{ instrument: FakeScpiInstrument; scpi: ScpiClient }> {
  pair = createMemoryPair({ chunkSize });
  const instrument = new FakeScpiInstrument(pair.device, { handle, ...instrumentOptions });
  await Promise.all([pair.host.open(), pair.device.open()]);
  client = new ScpiClient(pair.host, clientOptions);
  return { instrument, scpi: client };
}

function psbHandler(voltage: { value: number }): FakeScpiInstrumentOptions["handle"] {
  return (command, instrument) => {
    if (command === "*IDN?") return IDN;
    if (command === "MEAS:VOLT?") return `${voltage.value.toFixed(2)} V`;
    if (command === "MEAS:ARR?") return "48.00 V, 2.00 A, 96.00 W";
    const set = /^SOUR:VOLT (\S+)$/.exec(command);
    if (set) {
      const value = Number(set[1]);
      if (!(value >= 0 && value <= 80)) instrument.errors.push({ code: -222, message: "Data out of range" });
      else voltage.value = value;
      return undefined;
    }
    if (command === "OUTP ON") return undefined;
    return undefined;
  };
}

describe("ScpiClient", () => {
  it("queries, strips units and uses per-device terminators both ways", async () => {
    const { instrument, scpi } = await setup(
      psbHandler({ value: 48 }),
      { writeTerminator: "\r\n", readTerminator: "\r\n" },
      { readTerminator: "\r\n", writeTerminator: "\r\n" },
      1,
    );
    expect(await scpi.queryNumber("MEAS:VOLT?", { unit: "V" })).toBe(48);
    expect(await scpi.queryNumbers("MEAS:ARR?", { units: ["V", "A", "W"] })).toEqual([48, 2, 96]);
    expect(instrument.received).toEqual(["MEAS:VOLT?", "MEAS:ARR?"]);
  });

  it("names the command and the time in a timeout", async () => {
    const { scpi } = await setup(() => undefined);
    const error = await scpi.query("MEAS:VOLT?", { timeoutMs: 50 }).catch((err: unknown) => err);
    expect(hasErrorCode(error, "SCPI_TIMEOUT")).toBe(true);
    expect((error as Error).message).toMatch(
      /^Timeout after 50 ms waiting for reply to "MEAS:VOLT\?" on memory:\/\//,
    );
  });

  it("sends one command at a time even when called concurrently", async () => {
    let outstanding = 0;
    let maxOutstanding = 0;
    const { instrument, scpi } = await setup((command) => {
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      setTimeout(() => outstanding--, 4);
      return { reply: `${command.slice(0, 3)}-reply`, delayMs: 5 };
    });
    const replies = await Promise.all(["AAA?", "BBB?", "CCC?", "DDD?"].map((c) => scpi.query(c)));
    expect(replies).toEqual(["AAA-reply", "BBB-reply", "CCC-reply", "DDD-reply"]);
    expect(instrument.received).toEqual(["AAA?", "BBB?", "CCC?", "DDD?"]);
    expect(maxOutstanding).toBe(1);
  });

  it("drops a late reply that arrives while the line drains after a timeout", async () => {
    const voltage = { value: 10 };
    let first = true;
    const { scpi } = await setup(
      (command) => {
        if (command !== "MEAS:VOLT?") return undefined;
        const reply = `${voltage.value.toFixed(2)} V`;
        if (first) {
          first = false;
          return { reply, delayMs: 60 };
        }
        return reply;
      },
      { timeoutMs: 30, drainMs: 60 },
    );
    await expect(scpi.query("MEAS:VOLT?")).rejects.toMatchObject({ code: "SCPI_TIMEOUT" });
    voltage.value = 20;
    expect(await scpi.queryNumber("MEAS:VOLT?")).toBe(20);
    expect(scpi.discardedLines).toBe(1);
  });

  it("never takes a very late reply for the next answer once the identity is known (resync with *IDN?)", async () => {
    const voltage = { value: 10 };
    let slow = false;
    const { instrument, scpi } = await setup(
      (command) => {
        if (command === "*IDN?") return IDN;
        if (command !== "MEAS:VOLT?") return undefined;
        const reply = `${voltage.value.toFixed(2)} V`;
        if (slow) {
          slow = false;
          return { reply, delayMs: 150 };
        }
        return reply;
      },
      { timeoutMs: 40, drainMs: 10 },
    );
    await scpi.identify({ manufacturer: /elektro-automatik/i });
    slow = true;
    await expect(scpi.query("MEAS:VOLT?")).rejects.toMatchObject({ code: "SCPI_TIMEOUT" });
    voltage.value = 20;
    expect(await scpi.query("MEAS:VOLT?", { timeoutMs: 400 })).toBe("20.00 V");
    expect(instrument.received).toEqual(["*IDN?", "MEAS:VOLT?", "*IDN?", "MEAS:VOLT?"]);
    expect(scpi.discardedLines).toBe(1);
  });

  it("discards an unsolicited line and still answers the next query correctly", async () => {
    const { instrument, scpi } = await setup(psbHandler({ value: 12.5 }), { drainMs: 20 });
    await instrument.sendLine("99.99 V");
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await scpi.queryNumber("MEAS:VOLT?")).toBe(12.5);
    expect(scpi.discardedLines).toBe(1);
  });

  it("drops a line that grows past 64 KiB without a terminator and reads the next reply on its own", async () => {
    const { scpi } = await setup(psbHandler({ value: 48 }));
    await pair?.device.write(Buffer.alloc(70 * 1024, "x"));
    expect(await scpi.queryNumber("MEAS:VOLT?", { unit: "V" })).toBe(48);
  });

  it("checks SYST:ERR? after writes and reads the whole queue", async () => {
    const voltage = { value: 0 };
    const { instrument, scpi } = await setup(psbHandler(voltage), { errorQuery: "SYST:ERR?" });
    await scpi.write("SOUR:VOLT 42");
    expect(voltage.value).toBe(42);
    instrument.errors.push({ code: -100, message: "Command error" });
    const error = await scpi.write("SOUR:VOLT 120").catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ScpiDeviceError);
    expect((error as ScpiDeviceError).errors).toEqual([
      { code: -100, message: "Command error" },
      { code: -222, message: "Data out of range" },
    ]);
    expect((error as Error).message).toBe(
      'Instrument rejected "SOUR:VOLT 120": -100,"Command error"; -222,"Data out of range"',
    );
    expect(instrument.received).toEqual([
      "SOUR:VOLT 42",
      "SYST:ERR?",
      "SOUR:VOLT 120",
      "SYST:ERR?",
      "SYST:ERR?",
      "SYST:ERR?",
    ]);
    expect(await scpi.readErrors()).toEqual([]);
  });

  it("uses a configurable all-at-once error query such as SYST:ERR:ALL?", async () => {
    const { instrument, scpi } = await setup(psbHandler({ value: 0 }), { errorQuery: "SYST:ERR:ALL?" });
    instrument.errors.push({ code: -113, message: "Undefined header" });
    await expect(scpi.write("SOUR:VOLT 99")).rejects.toMatchObject({
      code: "SCPI_DEVICE_ERROR",
      errors: [
        { code: -113, message: "Undefined header" },
        { code: -222, message: "Data out of range" },
      ],
    });
    expect(instrument.received).toEqual(["SOUR:VOLT 99", "SYST:ERR:ALL?"]);
  });

  it("does not query errors on devices without an error queue", async () => {
    const { instrument, scpi } = await setup(psbHandler({ value: 0 }), {}, { errorQueue: false });
    await scpi.write("OUTP ON");
    await scpi.query("MEAS:VOLT?");
    expect(instrument.received).toEqual(["OUTP ON", "MEAS:VOLT?"]);
  });

  it("checks the identity and names what answered on a mismatch", async () => {
    const { scpi } = await setup(() => "ITECH Ltd.,IT-M3432,800001,1.05");
    const error = await scpi.identify({ manufacturer: /elektro-automatik/i }).catch((err: unknown) => err);
    expect(hasErrorCode(error, "IDENTITY_MISMATCH")).toBe(true);
    expect((error as Error).message).toContain('answered "ITECH Ltd.,IT-M3432,800001,1.05"');
  });

  it("fails a pending query at once when the link drops, and refuses to send while it is down", async () => {
    const { scpi } = await setup(() => ({ reply: "1", delayMs: 1000 }));
    const pending = scpi.query("MEAS:VOLT?", { timeoutMs: 5000 }).catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    pair?.unplug();
    expect(hasErrorCode(await pending, "TRANSPORT_DISCONNECTED")).toBe(true);
    expect(performance.now() - started).toBeLessThan(500);
    const refused = await scpi.query("MEAS:VOLT?").catch((err: unknown) => err);
    expect(hasErrorCode(refused, "TRANSPORT_NOT_CONNECTED")).toBe(true);
  });
});

describe("ScpiClient over a socat pty pair", () => {
  let pty: PtyPair | undefined;
  const transports: Transport[] = [];
  afterEach(async () => {
    client?.dispose();
    client = undefined;
    await Promise.all(transports.splice(0).map((t) => t.close()));
    await pty?.stop();
  });

  it("queries an instrument on the other pty", async () => {
    pty = await startPtyPair();
    const host = createTransport(`serial://${pty.a}?baud=115200`);
    const device = createTransport(`serial://${pty.b}?baud=115200`);
    transports.push(host, device);
    new FakeScpiInstrument(device, { handle: psbHandler({ value: 3.3 }) });
    await Promise.all([host.open(), device.open()]);
    client = new ScpiClient(host, { errorQuery: "SYST:ERR?" });
    expect((await client.identify({ model: "PSB" })).serial).toBe("2345670001");
    await client.write("SOUR:VOLT 4.2");
    expect(await client.queryNumber("MEAS:VOLT?", { unit: "V" })).toBe(4.2);
  });
});
