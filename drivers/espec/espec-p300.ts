/**
 * `espec/p300`: Espec chamber with a P300 controller (the same commands serve SCP-220 and ES-102)
 * over its ASCII protocol.
 *
 * Follows the Espec "P300 Communication Manual" (serial RS-232C / RS-485 communication and the
 * command reference) — cited below as [P300 CM, <command>] — and, where it confirms a fact, Espec
 * North America's own Python library, github.com/EspecNorthAmerica/ChamberConnectLibrary at 1d2deb8
 * (2018), cited as [CCL, <file>:<line>]. Every command and reply is one ASCII line ending in CR LF; a
 * refused command answers `NA:<reason>`; on RS-485 every command starts with `<address>,`. Facts as
 * in shared/reference/instruments.md.
 *
 * Transport: `serial:///dev/serial/by-id/...?baud=9600` (8N1) or `tcp://<host>:10001` (the
 * chamber's LAN option / a serial-to-Ethernet adapter).
 *
 * Options (all optional):
 *   address: none           RS-485 address; commands are then sent as "<address>,<command>"
 *   timeoutMs: 3000  minGapMs: 0  connectTimeoutMs: 5000  retryMs: 2000
 *   rangeC: [lo, hi]        the chamber's own range; intersected with TYPE? and the TEMP? limits
 *
 * Reply timeout, 3000 ms: what Espec's own library waits ([CCL, chamberconnectlibrary/especinteract.py:62],
 * EspecSerial `timeout=kwargs.get('timeout', 3)`). The emulator models the wire only (9600 8N1, no
 * device latency): the longest exchange this driver makes, `99,MODE, CONSTANT` answered by
 * `OK:MODE, CONSTANT`, takes 39.6 ms, `99,TEMP?` 34.4 ms (measured through the emulator: 34.9 ms
 * median); the timeout is 76× the longest. Reproduce (prints what it measures):
 *   npx vitest run --project suite test/drivers/espec/espec-p300.turnaround.test.ts
 * Waiting longer does not delay the daemon's safety: the bench's watchdog runs on its own loop and
 * faults the runs in a silent chamber after `sampling.watchdog` (default 1 s) whatever a read is still
 * waiting for. What it delays is this driver's own next command (a safe-state STANDBY too) after a
 * reply that never comes: by up to the timeout, plus the 250 ms quiet period and the TYPE?
 * resynchronisation. The link is this device's own (one transport per device): no other instrument
 * waits behind it.
 *
 * Not confirmed by the library (it never reads the reply to a setting, and sends `MODE,STANDBY` /
 * `MODE,CONSTANT` without the blank): the `OK:<command>` echo, and `MODE, <mode>` with a blank.
 *
 * Safe state is `MODE, STANDBY`, not `MODE, OFF` [P300 CM, MODE]: STANDBY stops temperature control
 * (heaters and refrigerator off) but keeps the controller's instrumentation running, so the air
 * temperature stays measured (the daemon keeps reading it, the watchdog keeps working) and the
 * chamber's own alarms stay armed; CONSTANT can be resumed over the link. OFF shuts the chamber's
 * operation down altogether, after which the readings no longer describe a monitored chamber.
 */
import { canonicalLineText, sameLineText } from "../../protocols/scpi/line-text.js";
import { ScpiClient } from "../../protocols/scpi/scpi-client.js";
import { createTransport } from "../../protocols/transport/create-transport.js";
import type { Transport } from "../../protocols/transport/transport.js";
import type {
  Chamber,
  ChamberRanges,
  ChamberReading,
  Device,
  DeviceConfig,
  DriverContext,
} from "../capabilities.js";
import { assertSetpointInRange, requireReady } from "../common/chamber-guards.js";
import { ChamberOptionReader, intersectRanges } from "../common/chamber-options.js";
import { ChamberSession, type ChamberSessionState } from "../common/chamber-session.js";
import { EspecBadReplyError, EspecCommandRefusedError } from "./espec-errors.js";

export const ESPEC_P300_DRIVER = "espec/p300";

/** Default reply timeout, ms (see the header: Espec's library waits 3 s). */
export const ESPEC_P300_DEFAULT_TIMEOUT_MS = 3000;

const DEFAULT_RANGE_C: [number, number] = [-40, 110];
const NUMBER = /^[-+]?\d+(?:\.\d+)?$/;
/**
 * A TYPE? reply: sensor and controller codes, then the maximum temperature (`T,S2,160.0`,
 * `T,T,S2,160.0`) [P300 CM, TYPE?]; [CCL, chamberconnectlibrary/p300.py:304] reads it as
 * drybulb[,wetbulb],controller,tempmax split at commas. Blanks around the fields are allowed:
 * controllers space their replies in their own way (as their OK: echoes, issue 9), and this is also
 * the resynchronisation reply, so a reply it refused would leave the link unusable.
 */
const TYPE_REPLY = /^\s*[A-Z][A-Z0-9-]*(?:\s*,\s*[A-Z][A-Z0-9-]*)+\s*,\s*[-+]?\d+(?:\.\d+)?\s*$/i;

type Commanded = { kind: "setpoint"; celsius: number } | { kind: "safe" } | undefined;

export class EspecP300 implements Device {
  readonly driver = ESPEC_P300_DRIVER;
  readonly id: string;
  readonly channels = [] as const;
  readonly chamber: EspecP300Chamber;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly minGapMs: number;
  private readonly connectTimeoutMs: number;
  private readonly retryMs: number;
  private transport: Transport | undefined;
  private client: ScpiClient | undefined;
  private session: ChamberSession | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    config: DeviceConfig,
    private readonly context?: Pick<DriverContext, "reportLink">,
  ) {
    this.id = config.id;
    const o = new ChamberOptionReader(config);
    this.url = o.transport("serial:///dev/serial/by-id/<adapter>?baud=9600");
    const address = o.integer("address", undefined, 0, 99);
    this.timeoutMs = o.number("timeoutMs", ESPEC_P300_DEFAULT_TIMEOUT_MS, 10, 60_000);
    this.minGapMs = o.number("minGapMs", 0, 0, 10_000);
    this.connectTimeoutMs = o.number("connectTimeoutMs", 5000, 10, 600_000);
    this.retryMs = o.number("retryMs", 2000, 10, 600_000);
    const rangeC = o.range("rangeC");
    o.done();
    this.chamber = new EspecP300Chamber(this.id, address, rangeC);
  }

  /** Where the connection stands: ready, link-down, identifying, not-ready, closed. */
  get linkState(): ChamberSessionState {
    return this.session?.state ?? "closed";
  }

  /** Connects once; a call while connecting waits for the same attempt. */
  connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    if (this.session) return;
    const transport = createTransport(this.url);
    // [P300 CM, communication format], [CCL, chamberconnectlibrary/especinteract.py:55]: CR LF ends
    // every line both ways; the client trims the CR on read.
    const client = new ScpiClient(transport, {
      writeTerminator: "\r\n",
      readTerminator: "\n",
      timeoutMs: this.timeoutMs,
      minGapMs: this.minGapMs,
      // After a timeout or a stray line: ask TYPE? and skip every line up to its answer, so a late
      // reply is never taken for the answer to a later command (the controller answers in order).
      resync: { command: this.chamber.wire("TYPE?"), reply: TYPE_REPLY },
    });
    const session = new ChamberSession(
      this.id,
      transport,
      { identify: () => this.chamber.identify(client), restore: () => this.chamber.restore() },
      {
        connectTimeoutMs: this.connectTimeoutMs,
        retryMs: this.retryMs,
        onLinkEvent: (event) => this.context?.reportLink?.(this.id, event),
      },
    );
    try {
      await session.connect();
    } catch (err) {
      client.dispose();
      await transport.close();
      throw err;
    }
    this.transport = transport;
    this.client = client;
    this.session = session;
    this.chamber.attach(client, session);
  }

  /** Closes the link (after a connect() under way has settled); the controller is left as it is. */
  async close(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    this.session?.close();
    this.client?.dispose();
    const transport = this.transport;
    this.session = undefined;
    this.client = undefined;
    this.transport = undefined;
    this.chamber.detach();
    await transport?.close();
  }
}

export class EspecP300Chamber implements Chamber {
  private client: ScpiClient | undefined;
  private session: ChamberSession | undefined;
  private typeMaxC: number | undefined;
  private alarmLimitsC: [number, number] | undefined;
  private commanded: Commanded;

  constructor(
    readonly id: string,
    /** RS-485 address, or undefined on RS-232C / TCP. */
    readonly address: number | undefined,
    private readonly chamberRangeC: [number, number] | undefined,
  ) {}

  /** options.rangeC within the TEMP? limits and below the TYPE? maximum (known after connect). */
  get ranges(): ChamberRanges {
    let range: [number, number] | undefined = this.chamberRangeC ?? DEFAULT_RANGE_C;
    if (this.alarmLimitsC) range = intersectRanges(this.alarmLimitsC, this.chamberRangeC);
    if (range && this.typeMaxC !== undefined) range = intersectRanges(range, [range[0], this.typeMaxC]);
    return { temperatureC: range ?? [Number.NaN, Number.NaN] };
  }

  async setSetpoint(celsius: number): Promise<void> {
    this.require("setSetpoint()");
    this.checkRange(celsius);
    await this.applySetpoint(celsius);
    this.commanded = { kind: "setpoint", celsius };
  }

  async read(): Promise<ChamberReading> {
    this.require("read()");
    const { pv, sp } = await this.readTemp();
    return { temperatureC: pv, setpointC: sp, outputPct: Number.NaN };
  }

  async toSafeState(): Promise<void> {
    this.commanded = { kind: "safe" };
    this.require("toSafeState()");
    await this.standby();
  }

  /** @internal Reads TYPE? (maximum temperature) and TEMP? (limits); on connect and every reconnect. */
  async identify(client: ScpiClient): Promise<void> {
    this.client = client;
    // [P300 CM, TYPE?], [CCL, chamberconnectlibrary/p300.py:304]:
    // "<sensor codes>,<controller>,<maximum temperature>".
    const type = await this.ask("TYPE?");
    const max = Number(type.split(",").at(-1)?.trim());
    if (!TYPE_REPLY.test(type) || !Number.isFinite(max))
      throw new EspecBadReplyError(this.id, "TYPE?", type, "a TYPE? reply such as T,S2,160.0");
    this.typeMaxC = max;
    await this.readTemp();
  }

  /** @internal */
  async restore(): Promise<void> {
    const commanded = this.commanded;
    if (commanded?.kind === "setpoint") {
      this.checkRange(commanded.celsius);
      await this.applySetpoint(commanded.celsius);
    } else if (commanded?.kind === "safe") {
      await this.standby();
    }
  }

  /** @internal */
  attach(client: ScpiClient, session: ChamberSession): void {
    this.client = client;
    this.session = session;
  }

  /** @internal */
  detach(): void {
    this.client = undefined;
    this.session = undefined;
  }

  /** Returns the command as sent on the wire (with the RS-485 address prefix when configured). */
  wire(command: string): string {
    // [P300 CM, RS-485], [CCL, chamberconnectlibrary/especinteract.py:94]: "<address>,<command>".
    return this.address === undefined ? command : `${this.address},${command}`;
  }

  /**
   * Sends `TEMP?` and parses "PV,SP,HIGH,LOW" [P300 CM, TEMP?], [CCL, chamberconnectlibrary/p300.py:358];
   * keeps the limits current.
   */
  private async readTemp(): Promise<{ pv: number; sp: number }> {
    const reply = await this.ask("TEMP?");
    const fields = reply.split(",");
    if (fields.length !== 4 || !fields.every((f) => NUMBER.test(f.trim())))
      throw new EspecBadReplyError(this.id, "TEMP?", reply, "four numbers PV,SP,HIGH,LOW");
    const [pv, sp, high, low] = fields.map(Number) as [number, number, number, number];
    if (!(low < high)) throw new EspecBadReplyError(this.id, "TEMP?", reply, "limits with LOW below HIGH");
    this.alarmLimitsC = [low, high];
    return { pv, sp };
  }

  private async applySetpoint(celsius: number): Promise<void> {
    // [P300 CM, TEMP], [CCL, chamberconnectlibrary/p300.py:1038]: "TEMP, S<value>" sets the constant
    // set point; one decimal place.
    await this.command(`TEMP, S${celsius.toFixed(1)}`);
    // [P300 CM, MODE?/MODE], [CCL, chamberconnectlibrary/p300.py:327 and :1152]: the set point only
    // acts in CONSTANT operation.
    const reply = await this.ask("MODE?");
    const mode = canonicalLineText(reply);
    if (!/^(OFF|STANDBY|CONSTANT|RUN)/.test(mode))
      throw new EspecBadReplyError(this.id, "MODE?", reply, "OFF, STANDBY, CONSTANT or RUN");
    if (mode !== "CONSTANT") await this.command("MODE, CONSTANT");
  }

  private async standby(): Promise<void> {
    await this.command("MODE, STANDBY");
  }

  /**
   * Sends a setting and checks the "OK:<command>" echo [P300 CM, communication format], up to
   * whitespace and case: controllers echo the command in their own spacing (`OK:TEMP,S28.0` for
   * `TEMP, S28.0`, issue 9); the echo of another command or value is not the confirmation asked for.
   */
  private async command(command: string): Promise<void> {
    const reply = await this.ask(command);
    if (!sameLineText(reply, `OK:${command}`))
      throw new EspecBadReplyError(this.id, command, reply, `"OK:${command}" (up to spaces and case)`);
  }

  /**
   * Sends one line and returns the reply; `NA:` (any spacing or case) becomes ESPEC_COMMAND_REFUSED
   * [CCL, chamberconnectlibrary/especinteract.py:103].
   */
  private async ask(command: string): Promise<string> {
    const reply = await this.client!.query(this.wire(command));
    const refused = /^NA\s*:(.*)$/i.exec(reply);
    if (refused) throw new EspecCommandRefusedError(this.id, command, refused[1]!.trim());
    return reply;
  }

  private require(action: string): void {
    requireReady(this.id, this.session, action);
  }

  private checkRange(celsius: number): void {
    assertSetpointInRange(
      this.id,
      celsius,
      this.ranges.temperatureC,
      "TYPE? maximum, TEMP? limits and options.rangeC",
    );
  }
}
