/**
 * `ea/psb-scpi`: Elektro-Automatik PSB 10000 bidirectional supply over SCPI (`\n` both ways; USB
 * virtual COM port, Ethernet port 5025, or any transport URL).
 *
 * Follows: EA "Programming Guide ModBus & SCPI" for the PSB 10000 series (REV 24), chapter "SCPI",
 * cited below as [PG SCPI: <command>], and the PSB 10000 operating manual, cited as [OM: <section>].
 * Not checked against the guide itself (it was not at hand): the exact reply texts of
 * `SYST:LOCK:OWN?` ("REMOTE" when this interface holds the lock) and `SYST:CONF:MODE?` ("UIP"/"UIR",
 * some firmware writes "U/I/P"); they come from cellbench's instrument notes and public drivers.
 *
 *   connect     *IDN? (manufacturer Elektro-Automatik, model PSB...) [PG SCPI: *IDN?]
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
 *   read        MEAS:ARR? → "<U> V, <I> A, <P> W" (units stripped; current positive when sourcing,
 *               negative when sinking [PG SCPI: MEASure:ARRay?, REV 24 §5.4.4.2 as cited by public
 *               drivers]) or, with options.measure = "separate", MEAS:VOLT? and MEAS:CURR?
 *   errors      SYST:ERR:ALL? after every write; any entry raises SCPI_DEVICE_ERROR [PG SCPI: SYSTem:ERRor:ALL?]
 *   close       SYST:LOCK OFF (front panel usable again); the output is left as it is, like sim/cycler
 *
 * `profile` mode is stepped by the driver on the injected clock (profile-stepper.ts): each point is
 * written as a CC set point at its time.
 *
 * Options: timeoutMs (reply timeout, default 1000), connectTimeoutMs (default 5000), retryMs (pause
 * between re-initialisations after a reconnect, default 1000), minGapMs (between commands, default 0),
 * measure ("array" | "separate"), limits ({ voltageV?, currentA?, powerW? } narrower than the ratings).
 */
import { canonicalLineText, type InstrumentIdentity, type ScpiClient } from "../../protocols/index.js";
import type { CyclerRanges, CyclerReading, DeviceConfig, DriverContext } from "../capabilities.js";
import { CyclerRemoteDeniedError } from "../common/cycler-errors.js";
import { DriverOptionReader } from "../common/driver-options.js";
import { ScpiCyclerDevice } from "../common/scpi-cycler-device.js";
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
      backend: (scpi, ranges) => new EaScpiBackend(scpi, ranges, measureMode),
    });
  }

  protected async initialize(reason: "connect" | "reconnect"): Promise<InstrumentIdentity> {
    const identity = await this.identifyAs(EA_PSB_IDENTITY, reason);
    await this.scpi.write("SYST:LOCK ON");
    const owner = await this.scpi.query("SYST:LOCK:OWN?");
    if (canonicalLineText(owner) !== "REMOTE")
      throw new CyclerRemoteDeniedError(this.id, `SYST:LOCK:OWN? answered "${owner}"`);
    await this.scpi.write("OUTP OFF");
    this.channel.outputSwitchedOff();
    if (reason === "connect" || this.rated === undefined) {
      this.rated = {
        voltageV: await this.scpi.queryNumber("SYST:NOM:VOLT?", { unit: "V" }),
        currentA: await this.scpi.queryNumber("SYST:NOM:CURR?", { unit: "A" }),
        powerW: await this.scpi.queryNumber("SYST:NOM:POW?", { unit: "W" }),
      };
    }
    const mode = canonicalLineText(await this.scpi.query("SYST:CONF:MODE?")).replaceAll("/", "");
    if (mode !== "UIP") await this.scpi.write("SYST:CONF:MODE UIP");
    return identity;
  }
}

class EaScpiBackend implements ChannelBackend {
  private written: Partial<SupplySetValues> | undefined;

  constructor(
    private readonly scpi: ScpiClient,
    private readonly ranges: () => CyclerRanges,
    private readonly measureMode: "array" | "separate",
  ) {}

  async writeLevels(setpoint: LevelSetpoint, outputOn: boolean): Promise<undefined> {
    const next = supplySetValues(setpoint, this.ranges());
    const writes = planSetValueWrites(this.written, next, outputOn, sameSetValue);
    for (const [name, value] of writes) {
      await this.scpi.write(`${SET_VALUE_COMMANDS[name]} ${formatSetValue(value)}`);
      this.written = { ...this.written, [name]: value };
    }
    return undefined;
  }

  async setOutput(on: boolean): Promise<void> {
    await this.scpi.write(on ? "OUTP ON" : "OUTP OFF");
  }

  async measure(): Promise<CyclerReading> {
    if (this.measureMode === "separate") {
      const voltageV = await this.scpi.queryNumber("MEAS:VOLT?", { unit: "V" });
      const currentA = await this.scpi.queryNumber("MEAS:CURR?", { unit: "A" });
      return { voltageV, currentA, temperatureC: Number.NaN };
    }
    const [voltageV, currentA] = await this.scpi.queryNumbers("MEAS:ARR?", {
      units: ["V", "A", "W"],
      count: 3,
    });
    return { voltageV: voltageV as number, currentA: currentA as number, temperatureC: Number.NaN };
  }

  forgetSettings(): void {
    this.written = undefined;
  }
}

/** Two set values are the same when they print the same (the command carries the printed value). */
function sameSetValue(_name: SetValueName, a: number, b: number): boolean {
  return formatSetValue(a) === formatSetValue(b);
}
