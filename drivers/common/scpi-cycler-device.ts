/**
 * What the single-channel SCPI cyclers (EA PSB over SCPI, ITECH IT-M3400) share: a `\n`-terminated
 * SCPI client on the device's transport, the supervised session and channel, the identity seen at
 * connect (a reconnect must find the same instrument), the ratings in use, and the close sequence.
 * Each driver adds its take-over sequence (`initialize`) and its channel backend.
 *
 * Writes read the error queue afterwards (CyclerScpi.write) unless a driver says otherwise
 * (CyclerScpi.writeUnchecked): on the EA PSB reading the queue acknowledges alarms, which the driver
 * must leave to the operator.
 */
import {
  createTransport,
  type IdentityPattern,
  type InstrumentIdentity,
  ScpiClient,
  ScpiDeviceError,
  type Transport,
} from "../../protocols/index.js";
import type { CyclerMode, CyclerRanges, Device, DeviceConfig, DriverContext } from "../capabilities.js";
import { CyclerRatingMismatchError } from "./cycler-errors.js";
import {
  type ChannelLimits,
  limitsOutsideRatings,
  type Ratings,
  rangesFrom,
  UNKNOWN_RANGES,
} from "./driver-options.js";
import type { InstrumentSession, LinkState } from "./instrument-session.js";
import { assertSameInstrument } from "./same-instrument.js";
import type { ChannelBackend, SupervisedChannel } from "./supervised-channel.js";
import { type CyclerTimings, superviseCycler } from "./supervised-cycler.js";

export interface ScpiCyclerSetup {
  url: string;
  channelId: string;
  timings: CyclerTimings;
  /** Configured limits narrower than the ratings. */
  limits: ChannelLimits;
  /** Modes the instrument supports. */
  modes: readonly CyclerMode[];
  /** The instrument's error queue query, asked after every write (`SYST:ERR?`, `SYST:ERR:ALL?`). */
  errorQuery: string;
  /** Command that hands the front panel back on close (`SYST:LOCK OFF`, `SYST:LOC`). */
  releaseCommand: string;
  backend(scpi: CyclerScpi, ranges: () => CyclerRanges): ChannelBackend;
}

/** The SCPI commands a cycler driver sends: writes checked against the error queue, or not. */
export class CyclerScpi {
  constructor(readonly client: ScpiClient) {}

  /** Sends a setting, then reads the error queue; throws SCPI_DEVICE_ERROR when it holds errors. */
  async write(command: string): Promise<void> {
    await this.client.write(command);
    const errors = await this.client.readErrors();
    if (errors.length > 0) throw new ScpiDeviceError(command, errors);
  }

  /** Sends a setting without reading the error queue (a refusal stays in the queue). */
  writeUnchecked(command: string): Promise<void> {
    return this.client.write(command);
  }

  query(command: string): Promise<string> {
    return this.client.query(command);
  }

  queryNumber(command: string, options: Parameters<ScpiClient["queryNumber"]>[1] = {}): Promise<number> {
    return this.client.queryNumber(command, options);
  }

  queryNumbers(command: string, options: Parameters<ScpiClient["queryNumbers"]>[1] = {}): Promise<number[]> {
    return this.client.queryNumbers(command, options);
  }
}

export abstract class ScpiCyclerDevice implements Device {
  abstract readonly driver: string;
  readonly id: string;
  readonly channels: readonly SupervisedChannel[];
  readonly transport: Transport;
  readonly scpi: ScpiClient;
  /** The commands the driver sends, over `scpi`. */
  protected readonly commands: CyclerScpi;
  readonly session: InstrumentSession;
  protected readonly channel: SupervisedChannel;
  /** Ratings in use, known once `initialize` has set them (reported by the instrument or configured). */
  protected rated: Ratings | undefined;
  private identityAtConnect: InstrumentIdentity | undefined;
  private readonly limits: ChannelLimits;
  private readonly modes: readonly CyclerMode[];
  private readonly releaseCommand: string;

  protected constructor(config: DeviceConfig, context: DriverContext, setup: ScpiCyclerSetup) {
    this.id = config.id;
    this.limits = setup.limits;
    this.modes = setup.modes;
    this.releaseCommand = setup.releaseCommand;
    this.transport = createTransport(setup.url);
    this.scpi = new ScpiClient(this.transport, {
      writeTerminator: "\n",
      readTerminator: "\n",
      timeoutMs: setup.timings.timeoutMs,
      errorQuery: setup.errorQuery,
      checkErrorsAfterWrite: false,
      minGapMs: setup.timings.minGapMs,
    });
    this.commands = new CyclerScpi(this.scpi);
    const { session, channel } = superviseCycler({
      deviceId: this.id,
      channelId: setup.channelId,
      context,
      transport: this.transport,
      timings: setup.timings,
      initialize: async (reason) => {
        const identity = await this.initialize(reason);
        const outside = this.rated && limitsOutsideRatings(this.rated, this.limits);
        if (outside) throw new CyclerRatingMismatchError(this.id, outside);
        this.identityAtConnect ??= identity;
      },
      backend: setup.backend(this.commands, () => this.ranges()),
      ranges: () => this.ranges(),
    });
    this.session = session;
    this.channel = channel;
    this.channels = [channel];
  }

  /** Where the link stands (ready, link-down, reinitializing, ...). */
  get linkState(): LinkState {
    return this.session.state;
  }

  /** The `*IDN?` identity seen at connect. */
  get identity(): InstrumentIdentity | undefined {
    return this.identityAtConnect;
  }

  /** The ratings in use. */
  get ratings(): Ratings | undefined {
    return this.rated;
  }

  connect(): Promise<void> {
    return this.session.connect();
  }

  /**
   * Stops stepping, hands the front panel back (when the link is up) and closes the transport; the
   * output is left as it is. The error queue is not read: a refusal changes nothing here.
   */
  async close(): Promise<void> {
    this.channel.stopStepping();
    if (this.session.state === "ready")
      await this.commands.writeUnchecked(this.releaseCommand).catch(() => undefined);
    this.session.close();
    this.scpi.dispose();
    await this.transport.close();
  }

  protected ranges(): CyclerRanges {
    return this.rated ? rangesFrom(this.rated, this.limits, this.modes) : UNKNOWN_RANGES;
  }

  /**
   * Takes the instrument over, on connect and after every reconnect: identity, remote control,
   * output off (then `channel.outputSwitchedOff()`), ratings. Returns the identity it checked.
   */
  protected abstract initialize(reason: "connect" | "reconnect"): Promise<InstrumentIdentity>;

  /** Asks `*IDN?` and checks it against `expected` and, after a reconnect, against the instrument seen at connect. */
  protected async identifyAs(
    expected: IdentityPattern,
    reason: "connect" | "reconnect",
  ): Promise<InstrumentIdentity> {
    const identity = await this.scpi.identify(expected);
    if (reason === "reconnect")
      assertSameInstrument(this.identityAtConnect, identity, `*IDN? on ${this.transport.url}`);
    return identity;
  }
}
