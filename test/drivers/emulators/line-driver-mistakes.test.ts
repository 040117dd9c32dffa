// A line-protocol driver (SCPI, Espec ASCII) sending one wrong command fails against its emulator. The
// emulators parse the headers their instruments' documents define (see each emulator's header), not the
// drivers' strings, so a header a real instrument would not know meets the refusal it would give. The
// drivers hold their commands inline, so the mistake is made on the wire: a link between driver and
// emulator rewrites one command as a driver with that mistake would send it. Each family first runs
// through the same link with nothing rewritten (the control).
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock, VirtualClock } from "../../../drivers/clock.js";
import { EaPsbScpi } from "../../../drivers/ea/ea-psb-scpi.js";
import { startEaPsbScpiEmulator } from "../../../drivers/emulators/ea-psb-scpi-emulator.js";
import { startEspecP300Emulator } from "../../../drivers/emulators/espec-p300-emulator.js";
import { startItechItM3400Emulator } from "../../../drivers/emulators/itech-it-m3400-emulator.js";
import { startKeysightDaq970aEmulator } from "../../../drivers/emulators/keysight-daq970a-emulator.js";
import { EspecP300 } from "../../../drivers/espec/espec-p300.js";
import { ItechItM3400 } from "../../../drivers/itech/itech-it-m3400.js";
import { KeysightDaq970a } from "../../../drivers/keysight/keysight-daq970a.js";
import { createMemoryPair, type Transport, type TransportEvents } from "../../../protocols/index.js";
import { rejection } from "../../support/wait.js";
import { context, deviceConfig } from "../ea/emulator-fixtures.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Rewrite = (line: string) => string;
type Listener<K extends keyof TransportEvents> = (...args: TransportEvents[K]) => void;

/**
 * The emulator's end of a link: `inner` with every line from the driver passed through `rewrite` (line
 * ends `\n` or `\r\n` kept). Everything else is `inner`'s.
 */
function rewriting(inner: Transport, rewrite: Rewrite): Transport {
  const wrapped = new Map<unknown, Listener<"data">>();
  const wrap = (listener: Listener<"data">): Listener<"data"> => {
    let pending = "";
    const onData: Listener<"data"> = (chunk) => {
      pending += chunk.toString("latin1");
      let out = "";
      for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        const cr = line.endsWith("\r") ? "\r" : "";
        out += `${rewrite(cr ? line.slice(0, -1) : line)}${cr}\n`;
      }
      if (out !== "") listener(Buffer.from(out, "latin1"));
    };
    wrapped.set(listener, onData);
    return onData;
  };
  const link: Transport = {
    get spec() {
      return inner.spec;
    },
    get url() {
      return inner.url;
    },
    get state() {
      return inner.state;
    },
    get lastError() {
      return inner.lastError;
    },
    open: (options) => inner.open(options),
    write: (bytes) => inner.write(bytes),
    close: () => inner.close(),
    on(event, listener) {
      if (event === "data") inner.on("data", wrap(listener as Listener<"data">));
      else inner.on(event, listener);
      return link;
    },
    once(event, listener) {
      if (event === "data") inner.once("data", wrap(listener as Listener<"data">));
      else inner.once(event, listener);
      return link;
    },
    off(event, listener) {
      if (event === "data") inner.off("data", wrapped.get(listener) ?? (listener as Listener<"data">));
      else inner.off(event, listener);
      return link;
    },
  };
  return link;
}

/** Replaces `wrong` by `instead` at the start of a line (the command's header). */
const sendsInstead =
  (wrong: string, instead: string): Rewrite =>
  (line) =>
    line.startsWith(wrong) ? `${instead}${line.slice(wrong.length)}` : line;
const unchanged: Rewrite = (line) => line;

let pairs = 0;
/** A memory pair whose device end rewrites the driver's lines; returns that end and the driver's URL. */
function link(rewrite: Rewrite): { device: Transport; url: string } {
  const name = `mistakes-${process.pid}-${++pairs}`;
  const pair = createMemoryPair({ name });
  cleanups.push(() => pair.dispose());
  return { device: rewriting(pair.device, rewrite), url: `memory://${name}` };
}

/** "<code>: <message>" of the CellbenchError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await rejection(promise);
  return `${err.code}: ${err.message}`;
}

describe("ea/psb-scpi sending a wrong header", () => {
  async function connect(rewrite: Rewrite): Promise<EaPsbScpi> {
    const clock = new ScaledClock(1);
    const { device, url } = link(rewrite);
    const emu = await startEaPsbScpiEmulator({ listen: device, clock, options: { initialSoc: 0.5 } });
    cleanups.push(() => emu.stop());
    const psb = new EaPsbScpi(
      deviceConfig("ea/psb-scpi", url, { timeoutMs: 1000, retryMs: 50 }),
      context(clock),
    );
    cleanups.push(() => psb.close().catch(() => undefined));
    await psb.connect();
    return psb;
  }

  it("control: connects and reads through the rewriting link", async () => {
    const psb = await connect(unchanged);
    expect((await psb.channels[0]!.read()).voltageV).toBeGreaterThan(3);
  });

  it("SYST:REM (another maker's remote command) instead of SYST:LOCK ON fails connect", async () => {
    expect(await failure(connect(sendsInstead("SYST:LOCK ON", "SYST:REM")))).toMatch(
      /^SCPI_DEVICE_ERROR: .*-113,"Undefined header"/,
    );
  });

  it("MEAS:ALL? instead of MEAS:ARR? fails the read", async () => {
    const psb = await connect(sendsInstead("MEAS:ARR?", "MEAS:ALL?"));
    // The emulator, as an SCPI instrument, queues -113 and sends no reply to an unknown query.
    expect(await failure(psb.channels[0]!.read())).toMatch(/^SCPI_TIMEOUT: .*MEAS:ARR\?/);
  });
});

describe("itech/it-m3400 sending a wrong header", () => {
  async function connect(rewrite: Rewrite): Promise<ItechItM3400> {
    const clock = new ScaledClock(1);
    const { device, url } = link(rewrite);
    const emu = await startItechItM3400Emulator({ listen: device, clock, options: { initialSoc: 0.5 } });
    cleanups.push(() => emu.stop());
    const dev = new ItechItM3400(
      deviceConfig("itech/it-m3400", url, { timeoutMs: 1000, retryMs: 50, remoteSense: "on" }),
      context(clock),
    );
    cleanups.push(() => dev.close().catch(() => undefined));
    await dev.connect();
    return dev;
  }

  it("control: connects with remote sense on and reads", async () => {
    const dev = await connect(unchanged);
    expect((await dev.channels[0]!.read()).voltageV).toBeGreaterThan(3);
  });

  it("REM:SENS (issue 12, finding 5) instead of the guide's SENS:REM fails connect", async () => {
    expect(await failure(connect(sendsInstead("SENS:REM", "REM:SENS")))).toMatch(
      /^SCPI_DEVICE_ERROR: .*-113,"Undefined header"/,
    );
  });
});

describe("espec/p300 sending a wrong command", () => {
  async function connect(rewrite: Rewrite): Promise<EspecP300> {
    const { device, url } = link(rewrite);
    const emu = await startEspecP300Emulator({
      listen: device,
      clock: new ScaledClock(1),
      options: { initialC: 22, ambientC: 22 },
    });
    cleanups.push(() => emu.stop());
    const dev = new EspecP300({
      id: "tc3",
      driver: "espec/p300",
      transport: url,
      options: { timeoutMs: 1000 },
    });
    cleanups.push(() => dev.close().catch(() => undefined));
    await dev.connect();
    return dev;
  }

  it("control: connects, reads the air and sets a constant set point", async () => {
    const dev = await connect(unchanged);
    expect((await dev.chamber.read()).temperatureC).toBeCloseTo(22, 0);
    await dev.chamber.setSetpoint(30);
  });

  it("MODE, CONST instead of MODE, CONSTANT fails the set point", async () => {
    const dev = await connect(sendsInstead("MODE, CONSTANT", "MODE, CONST"));
    expect(await failure(dev.chamber.setSetpoint(30))).toMatch(/^ESPEC_COMMAND_REFUSED: .*NA:PARA ERR/);
  });

  it("TEMP (without ?) instead of TEMP? fails connect", async () => {
    expect(await failure(connect(sendsInstead("TEMP?", "TEMP")))).toMatch(
      /^ESPEC_COMMAND_REFUSED: .*NA:PARA ERR/,
    );
  });
});

describe("keysight/daq970a sending a wrong header", () => {
  async function connect(rewrite: Rewrite): Promise<KeysightDaq970a> {
    const { device, url } = link(rewrite);
    const emu = await startKeysightDaq970aEmulator({ listen: device, options: {} });
    cleanups.push(() => emu.stop());
    const daq = new KeysightDaq970a(
      {
        id: "daq1",
        driver: "keysight/daq970a",
        transport: url,
        options: { inputs: { "101": "K" }, timeoutMs: 2000, retryMs: 50 },
      },
      { clock: new VirtualClock(), chamberOfChannel: () => undefined, reportLink: () => undefined },
    );
    cleanups.push(() => daq.close().catch(() => undefined));
    await daq.connect();
    return daq;
  }

  it("control: connects and scans", async () => {
    const daq = await connect(unchanged);
    expect((await daq.temperatureInputs.scan()).get("101")).toMatchObject({ ok: true });
  });

  it("ROUT:SCAN:LIST instead of ROUT:SCAN fails connect", async () => {
    expect(await failure(connect(sendsInstead("ROUT:SCAN ", "ROUT:SCAN:LIST ")))).toMatch(
      /^DAQ_CONFIG_REFUSED: .*-113,"Undefined header"/,
    );
  });
});
