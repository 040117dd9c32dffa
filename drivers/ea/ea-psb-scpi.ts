/**
 * `ea/psb-scpi`: Elektro-Automatik PSB 10000 bidirectional supply over SCPI (`\n` both ways; USB
 * virtual COM port, Ethernet port 5025, or any transport URL).
 *
 * Follows: EA "Programming Guide ModBus & SCPI" (PGMBEN), chapter "SCPI", cited below as
 * [PG SCPI: <command or section>], and the PSB 10000 operating manual, cited as [OM: <section>]. The
 * guide itself was not at hand: section numbers are those of REV 17 as quoted by
 * ami3go/RobotFrameworks_hw_drivers (rf_ea_ps9000t task document, which read it for the PS 9000 T;
 * the SCPI chapter is common to the family) — check page numbers against your copy. Not found in any
 * published source (UNVERIFIED, kept from cellbench's instrument notes and public drivers): the reply
 * texts of `SYST:LOCK:OWN?` ("REMOTE") and `SYST:CONF:MODE?` ("UIP"/"UIR", some firmware "U/I/P"), the
 * bit numbers of the alarms in `STAT:QUES:COND?` (ea-scpi-alarms.ts), and the SI prefix ("kW") in
 * replies of high-power models (issue 12, finding 6: the guide says only that measured values carry
 * the display's decimals [PG SCPI: MEASure, as quoted]).
 *
 *   connect     *IDN? (manufacturer Elektro-Automatik, model PSB...) [PG SCPI §5.4.1: *IDN?]
 *               STAT:QUES:COND? before any setting: with an alarm standing, the connect writes below
 *               skip the error queue, so that connecting does not acknowledge it (see alarms)
 *               SYST:LOCK ON, then SYST:LOCK:OWN? must answer REMOTE: the PSB ignores settings from an
 *               interface that does not hold the lock [PG SCPI: SYSTem:LOCK, SYSTem:LOCK:OWNer?]
 *               OUTP OFF (safe state first) [PG SCPI: OUTPut]
 *               SYST:NOM:VOLT?|CURR?|POW? → the channel's ranges [PG SCPI: SYSTem:NOMinal]
 *               SYST:CONF:MODE? and, unless U/I/P, SYST:CONF:MODE UIP: power (not resistance) must be
 *               the third set value for CP [PG SCPI: SYSTem:CONFig:MODE]
 *   set points  SOUR:VOLT, SOUR:CURR, SOUR:POW (source quadrant), SINK:CURR, SINK:POW (sink quadrant), in
 *               volts, amperes, watts [PG SCPI: SOURce:VOLTage, SOURce:CURRent, SOURce:POWer,
 *               SINK:CURRent, SINK:POWer]; the mapping of modes to set values is in supply-set-values.ts
 *   output      OUTP ON | OUTP OFF [PG SCPI: OUTPut]
 *   read        STAT:QUES:COND? first (alarms), then MEAS:ARR? → "<U> V, <I> A, <P> W" (current positive
 *               when sourcing, negative when sinking [PG SCPI: MEASure:ARRay?, REV 24 §5.4.4.2 as cited
 *               by public drivers]) or, with options.measure = "separate", MEAS:VOLT? and MEAS:CURR?.
 *               Units may carry an SI prefix (m, k, M: "1.50 kW" is 1500 W); any other unit is refused
 *               (SCPI_BAD_REPLY naming it) [issue 12 finding 6; UNVERIFIED which models do it]
 *   alarms      OVP, OCP, OPP, OT, PF, MSP are in STAT:QUES:COND? [PG SCPI §5.4.2], never in the error
 *               queue; reading the error queue acknowledges those whose cause is gone [PG SCPI §5.4.2].
 *               So the driver reads the register before every setting and on every read, reports a
 *               standing alarm as CYCLER_DEVICE_ALARM with its name, sends no setting meanwhile, and
 *               switches the output off without reading the error queue: the alarm stays until the
 *               operator acknowledges it at the instrument. (Left: a setting written in the moments
 *               between the register read and the error-queue read can acknowledge an alarm that
 *               tripped and cleared in that window; SYST:ALARM:COUNT:*? [PG SCPI §5.4.15.3] would show it.)
 *   errors      SYST:ERR:ALL? after every other write; any entry raises SCPI_DEVICE_ERROR
 *               [PG SCPI: SYSTem:ERRor:ALL?]
 *   close       SYST:LOCK OFF (front panel usable again; the error queue is not read); the output is left
 *               as it is, like sim/cycler
 *
 * `profile` mode is stepped by the driver on the injected clock (profile-stepper.ts): each point is
 * written as a CC set point at its time.
 *
 * Options: timeoutMs (reply timeout, default 1000), connectTimeoutMs (default 5000), retryMs (pause
 * between re-initialisations after a reconnect, default 1000), minGapMs (between commands, default 0),
 * measure ("array" | "separate"), limits ({ voltageV?, currentA?, powerW? } narrower than the ratings).
 */
import { canonicalLineText, type InstrumentIdentity } from "../../protocols/index.js";
import type { CyclerRanges, CyclerReading, DeviceConfig, DriverContext } from "../capabilities.js";
import { CyclerDeviceAlarmError, CyclerRemoteDeniedError } from "../common/cycler-errors.js";
import { DriverOptionReader } from "../common/driver-options.js";
import { type CyclerScpi, ScpiCyclerDevice } from "../common/scpi-cycler-device.js";
import { queryStatusRegister } from "../common/status-register.js";
import type { ChannelBackend, LevelSetpoint } from "../common/supervised-channel.js";
import { readCyclerTimings } from "../common/supervised-cycler.js";
import {
  formatSetValue,
  planSetValueWrites,
  type SetValueName,
  type SupplySetValues,
  supplySetValues,
} from "../common/supply-set-values.js";
import { ALL_CYCLER_MODES } from "../sim/sim-cycler.js";
import { EA_ALARM_QUERY, eaScpiAlarmNames } from "./ea-scpi-alarms.js";

export const EA_PSB_SCPI_DRIVER = "ea/psb-scpi";

/** Identity every PSB answers with [PG SCPI: *IDN?]. */
export const EA_PSB_IDENTITY = { manufacturer: /elektro.?automatik/i, model: /^PSB/i };

/** The SCPI command that writes each set value [PG SCPI: SOURce:..., SINK:...]. */
const SET_VALUE_COMMANDS: Record<SetValueName, string> = {
  voltageV: "SOUR:VOLT",
  sourceCurrentA: "SOUR:CURR",
  sinkCurrentA: "SINK:CURR",
  sourcePowerW: "SOUR:POW",
  sinkPowerW: "SINK:POW",
};

export class EaPsbScpi extends ScpiCyclerDevice {
  readonly driver = EA_PSB_SCPI_DRIVER;

  constructor(config: DeviceConfig, context: DriverContext) {
    const o = new DriverOptionReader(config);
    const url = o.transport();
    const channelId = o.channelId();
    const timings = readCyclerTimings(o);
    const measureMode = o.choice("measure", "array", ["array", "separate"] as const);
    const limits = o.limits();
    o.done();
    super(config, context, {
      url,
      channelId,
      timings,
      limits,
      modes: ALL_CYCLER_MODES,
      errorQuery: "SYST:ERR:ALL?",
      // [PG SCPI: SYSTem:LOCK]: releases remote control so the front panel works again.
      releaseCommand: "SYST:LOCK OFF",
      backend: (scpi, ranges) => new EaScpiBackend(config.id, scpi, ranges, measureMode),
    });
  }

  protected async initialize(reason: "connect" | "reconnect"): Promise<InstrumentIdentity> {
    const identity = await this.identifyAs(EA_PSB_IDENTITY, reason);
    // With an alarm standing, reading the error queue would acknowledge it [PG SCPI §5.4.2].
    const alarms = await readAlarms(this.commands);
    const write = (command: string) =>
      alarms.names.length > 0 ? this.commands.writeUnchecked(command) : this.commands.write(command);
    await write("SYST:LOCK ON");
    const owner = await this.commands.query("SYST:LOCK:OWN?");
    if (canonicalLineText(owner) !== "REMOTE")
      throw new CyclerRemoteDeniedError(this.id, `SYST:LOCK:OWN? answered "${owner}"`);
    await write("OUTP OFF");
    this.channel.outputSwitchedOff();
    if (reason === "connect" || this.rated === undefined) {
      this.rated = {
        voltageV: await this.commands.queryNumber("SYST:NOM:VOLT?", { siUnit: "V" }),
        currentA: await this.commands.queryNumber("SYST:NOM:CURR?", { siUnit: "A" }),
        powerW: await this.commands.queryNumber("SYST:NOM:POW?", { siUnit: "W" }),
      };
    }
    const mode = canonicalLineText(await this.commands.query("SYST:CONF:MODE?")).replaceAll("/", "");
    if (mode !== "UIP") await write("SYST:CONF:MODE UIP");
    return identity;
  }
}

interface AlarmState {
  names: string[];
  condition: number;
}

/** Reads STAT:QUES:COND? and names the alarms it holds [PG SCPI §5.4.2]; reading it acknowledges nothing. */
async function readAlarms(scpi: CyclerScpi): Promise<AlarmState> {
  const condition = await queryStatusRegister(scpi, EA_ALARM_QUERY);
  return { names: eaScpiAlarmNames(condition), condition };
}

class EaScpiBackend implements ChannelBackend {
  private written: Partial<SupplySetValues> | undefined;

  constructor(
    private readonly deviceId: string,
    private readonly scpi: CyclerScpi,
    private readonly ranges: () => CyclerRanges,
    private readonly measureMode: "array" | "separate",
  ) {}

  async writeLevels(setpoint: LevelSetpoint, outputOn: boolean): Promise<undefined> {
    await this.assertNoAlarm();
    const next = supplySetValues(setpoint, this.ranges());
    const writes = planSetValueWrites(this.written, next, outputOn, sameSetValue);
    for (const [name, value] of writes) {
      await this.scpi.write(`${SET_VALUE_COMMANDS[name]} ${formatSetValue(value)}`);
      this.written = { ...this.written, [name]: value };
    }
    return undefined;
  }

  async setOutput(on: boolean): Promise<void> {
    if (on) {
      await this.assertNoAlarm();
      await this.scpi.write("OUTP ON");
      return;
    }
    // Safe state comes first, but during an alarm without reading the error queue (no acknowledgement).
    const alarms = await readAlarms(this.scpi);
    if (alarms.names.length > 0) await this.scpi.writeUnchecked("OUTP OFF");
    else await this.scpi.write("OUTP OFF");
  }

  async measure(): Promise<CyclerReading> {
    await this.assertNoAlarm();
    if (this.measureMode === "separate") {
      const voltageV = await this.scpi.queryNumber("MEAS:VOLT?", { siUnit: "V" });
      const currentA = await this.scpi.queryNumber("MEAS:CURR?", { siUnit: "A" });
      return { voltageV, currentA, temperatureC: Number.NaN };
    }
    const [voltageV, currentA] = await this.scpi.queryNumbers("MEAS:ARR?", {
      siUnits: ["V", "A", "W"],
      count: 3,
    });
    return { voltageV: voltageV as number, currentA: currentA as number, temperatureC: Number.NaN };
  }

  forgetSettings(): void {
    this.written = undefined;
  }

  /** Throws CYCLER_DEVICE_ALARM naming the alarms STAT:QUES:COND? holds. */
  private async assertNoAlarm(): Promise<void> {
    const { names, condition } = await readAlarms(this.scpi);
    if (names.length > 0)
      throw new CyclerDeviceAlarmError(this.deviceId, `${names.join(", ")}; ${EA_ALARM_QUERY} ${condition}`);
  }
}

/** Two set values are the same when they print the same (the command carries the printed value). */
function sameSetValue(_name: SetValueName, a: number, b: number): boolean {
  return formatSetValue(a) === formatSetValue(b);
}
