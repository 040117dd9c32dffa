/**
 * `keysight/daq970a`: Keysight DAQ970A (and its predecessors 34970A / 34972A, same command set) data
 * acquisition unit reading thermocouples on a multiplexer module, over SCPI (`\n` both ways; LAN
 * socket port 5025, USB, RS-232 on the 34970A, or any transport URL).
 *
 * Follows the Agilent/Keysight "34970A/34972A User's Guide" (cited [UG: <section>]) as quoted by the
 * public sources named below, and the Keysight "DAQ970A Programming Guide" (9018-04756), which keeps the
 * 34970A's command set. Where the 34970A text was not at hand, the 34980A Command Reference (same SCPI
 * family, documentation.help/34980A) is cited [34980A: <command>]. Not found in a published source
 * (UNVERIFIED): that the instrument scans in ascending channel order (the driver matches readings by
 * their channel number, so order does not matter to it), the reply format of UNIT:TEMP? for a channel
 * list ("C,C"; quotes are accepted), and that FORM:READ:CHAN ON prints the channel as an integer
 * ("101"; "+1.01E+02" is accepted too).
 *
 *   connect   *IDN? (Keysight/Agilent/HP, model DAQ970A, DAQ973A, 34970A or 34972A) [IEEE 488.2 *IDN?]
 *             *CLS: the error queue then holds only what this configuration causes [UG: *CLS]
 *             ABOR: stops a scan left running by the front panel or another program [UG ch.4
 *             "Scanning": "To stop a scan, execute the ABORt command"]
 *             CONF:TEMP TC,<type>,(@list) per thermocouple type [UG ch.5 CONFigure:TEMPerature; 34970A
 *             command quoted in dvg_devices Keysight_3497xA_protocol_SCPI.py]. Each CONF "redefines the
 *             scan list" and resets the channel's earlier settings [UG ch.4 "To Build a Scan List From the
 *             Remote Interface"], and turns off the units, time, channel and alarm fields of readings
 *             [UG ch.4 "Reading Format"], so every setting below follows the last CONF.
 *             UNIT:TEMP C,(@list) [UG: UNIT:TEMPerature; returns "C", "F" or "K"], read back with
 *             UNIT:TEMP? (@list): an instrument left in °F or K is set to °C, never read in °F
 *             TEMP:TRAN:TC:RJUN:TYPE INT|FIX,(@list) and TEMP:TRAN:TC:RJUN <°C>,(@list) for a fixed
 *             junction [34980A: ...TCouple:RJUNction:TYPE, ...TCouple:RJUNction, always in °C]
 *             TEMP:TRAN:TC:CHEC ON,(@list): "the instrument measures the channel resistance after each
 *             thermocouple measurement ... If an open connection is detected (greater than 5 kΩ on the
 *             10 kΩ range), the instrument reports an overload condition for that channel. The default
 *             is OFF" [UG: SENS:TEMP:TRAN:TC:CHECk, as quoted in a public MATLAB hood-logger script]
 *             ROUT:SCAN (@list): the whole scan list, after the CONFs that each redefined it [UG ch.5
 *             "Scanning Commands": ROUTe:SCAN]; ROUT:SCAN:SIZE? must then count every input [same]
 *             TRIG:SOUR IMM, TRIG:COUN 1: one sweep of the list per READ?, whatever the front panel left
 *             [UG ch.5 "Scanning Commands": TRIGger:SOURce; TRIGger:COUNt]
 *             FORM:READ:CHAN ON: each reading is followed by its channel number [UG ch.4 "Reading Format"]
 *             SYST:ERR? until +0,"No error": any entry refuses the connect with DAQ_CONFIG_REFUSED
 *             [UG ch.5 "Error Messages"; SCPI-99 SYSTem:ERRor]
 *   scan      READ? (INITiate then FETCh? in one [UG ch.4: "To initiate a scan, execute the MEASure?,
 *             READ?, or INITiate command"; 34980A: READ?]) → "<reading>,<channel>,..." in °C.
 *             +9.9E+37 with the check on is an open thermocouple (or an input above range: the
 *             instrument cannot tell them apart) → fault "open"; -9.9E+37 → "overload"; SCPI-99's
 *             9.91E+37 (NaN) or a finite value outside the type's NIST range → "out-of-range". An
 *             overload enters no error queue entry [UG ch.5 "The Questionable Data Register": "no error
 *             message is recorded in the instrument's error queue"], so a scan does not read the queue.
 *   close     nothing is sent; the scan stays configured.
 *
 * A reconnect runs the whole connect sequence again (the instrument may have been power-cycled, which
 * loses the scan configuration), checking that the same instrument (model and serial) answers.
 *
 * Options: inputs ({ "101": "K", "102": "T" }: slot·100 + channel → type B, E, J, K, N, R, S or T),
 * referenceJunction ("internal", default, or { fixedC }), timeoutMs (default 1000), scanMsPerInput
 * (added to timeoutMs per input for READ?, default 100), connectTimeoutMs (5000), retryMs (1000),
 * minGapMs (0).
 */
import {
  createTransport,
  type InstrumentIdentity,
  ScpiClient,
  type ScpiErrorEntry,
  type Transport,
} from "../../protocols/index.js";
import type {
  CyclerChannel,
  Device,
  DeviceConfig,
  DriverContext,
  TemperatureInputReading,
  TemperatureInputs,
} from "../capabilities.js";
import { InstrumentSession } from "../common/instrument-session.js";
import { assertSameInstrument } from "../common/same-instrument.js";
import {
  DaqConfigurationRefusedError,
  DaqLinkDownError,
  DaqNotConnectedError,
  DaqNotReadyError,
  DaqSettingNotAppliedError,
} from "./daq970a-errors.js";
import { type Daq970aOptions, readDaq970aOptions } from "./daq970a-options.js";
import { channelList, configurationCommands, parseScan } from "./daq970a-scan.js";

export const KEYSIGHT_DAQ970A_DRIVER = "keysight/daq970a";

/** Instruments that answer this command set [UG: *IDN?; DAQ970A Programming Guide: *IDN?]. */
export const DAQ970A_IDENTITY = {
  manufacturer: /keysight|agilent|hewlett/i,
  model: /^(DAQ970A|DAQ973A|34970A|34972A)$/i,
};

export class KeysightDaq970a implements Device {
  readonly driver = KEYSIGHT_DAQ970A_DRIVER;
  readonly id: string;
  readonly channels: readonly CyclerChannel[] = [];
  readonly temperatureInputs: TemperatureInputs;
  readonly transport: Transport;
  readonly scpi: ScpiClient;
  readonly session: InstrumentSession;
  private readonly options: Daq970aOptions;
  private identityAtConnect: InstrumentIdentity | undefined;

  constructor(config: DeviceConfig, context: DriverContext) {
    this.id = config.id;
    this.options = readDaq970aOptions(config);
    this.transport = createTransport(this.options.url);
    this.scpi = new ScpiClient(this.transport, {
      writeTerminator: "\n",
      readTerminator: "\n",
      timeoutMs: this.options.timings.timeoutMs,
      errorQuery: "SYST:ERR?",
      checkErrorsAfterWrite: false,
      minGapMs: this.options.timings.minGapMs,
    });
    this.session = new InstrumentSession({
      deviceId: this.id,
      transport: this.transport,
      initialize: (reason) => this.configure(reason),
      onLinkEvent: (event) => context.reportLink?.(this.id, event),
      connectTimeoutMs: this.options.timings.connectTimeoutMs,
      retryMs: this.options.timings.retryMs,
    });
    const ids = this.options.setup.inputs.map((i) => i.id);
    this.temperatureInputs = { inputs: ids, scan: () => this.scan() };
  }

  /** The `*IDN?` identity seen at connect. */
  get identity(): InstrumentIdentity | undefined {
    return this.identityAtConnect;
  }

  /** Opens the transport, identifies the instrument and configures the scan. */
  connect(): Promise<void> {
    return this.session.connect();
  }

  /** Stops following the link and closes the transport; the instrument keeps its scan configuration. */
  async close(): Promise<void> {
    this.session.close();
    this.scpi.dispose();
    await this.transport.close();
  }

  /** Reads every configured input once (one READ?). */
  async scan(): Promise<ReadonlyMap<string, TemperatureInputReading>> {
    this.assertReady("scan()");
    const timeoutMs =
      this.options.timings.timeoutMs + this.options.setup.inputs.length * this.options.scanMsPerInput;
    let reply: string;
    try {
      reply = await this.scpi.query("READ?", { timeoutMs });
    } catch (err) {
      const state = this.session.state;
      if (state === "link-down" || state === "reinitializing")
        throw new DaqLinkDownError(this.id, "scan()", this.transport.url, err);
      throw err;
    }
    return parseScan(this.id, reply, this.options.setup);
  }

  private assertReady(action: string): void {
    switch (this.session.state) {
      case "ready":
        return;
      case "link-down":
        throw new DaqLinkDownError(this.id, action, this.transport.url, this.session.lastError);
      case "reinitializing":
        throw new DaqNotReadyError(
          this.id,
          action,
          this.session.failedTakeOvers > 0 ? this.session.lastError : undefined,
        );
      default:
        throw new DaqNotConnectedError(this.id, action);
    }
  }

  /** Identifies the instrument and configures the scan; runs at connect and after every reconnect. */
  private async configure(reason: "connect" | "reconnect"): Promise<void> {
    const identity = await this.scpi.identify(DAQ970A_IDENTITY);
    if (reason === "reconnect")
      assertSameInstrument(this.identityAtConnect, identity, `*IDN? on ${this.transport.url}`);
    await this.scpi.write("*CLS");
    await this.scpi.write("ABOR");
    const commands = configurationCommands(this.options.setup);
    for (const command of commands) await this.scpi.write(command);
    const errors: ScpiErrorEntry[] = await this.scpi.readErrors();
    if (errors.length > 0) throw new DaqConfigurationRefusedError(this.id, commands, errors);
    await this.verify();
    this.identityAtConnect ??= identity;
  }

  /** Reads back the units and the scan list size the configuration set. */
  private async verify(): Promise<void> {
    const ids = this.options.setup.inputs.map((i) => i.id);
    const all = channelList(ids);
    const units = (await this.scpi.query(`UNIT:TEMP? ${all}`)).split(",").map((u) =>
      u
        .trim()
        .replace(/^"(.*)"$/, "$1")
        .toUpperCase(),
    );
    if (units.length !== ids.length || units.some((u) => u !== "C"))
      throw new DaqSettingNotAppliedError(
        this.id,
        `UNIT:TEMP? ${all} answered "${units.join(",")}" after UNIT:TEMP C: readings would not be in °C`,
      );
    const size = await this.scpi.queryNumber("ROUT:SCAN:SIZE?");
    if (size !== ids.length)
      throw new DaqSettingNotAppliedError(
        this.id,
        `ROUT:SCAN:SIZE? answered ${size} after ROUT:SCAN ${all} (${ids.length} inputs)`,
      );
  }
}
