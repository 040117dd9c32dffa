/**
 * The wiring every real single-channel cycler driver shares (EA PSB over SCPI and Modbus, ITECH
 * IT-M3400): the timing options, an InstrumentSession supervising the link, the SupervisedChannel
 * that fails fast while the link is down, and link events passed on to the daemon. SCPI drivers build
 * on it through ScpiCyclerDevice.
 */
import type { Transport } from "../../protocols/index.js";
import type { CyclerRanges, DriverContext } from "../capabilities.js";
import type { DriverOptionReader } from "./driver-options.js";
import { InstrumentSession } from "./instrument-session.js";
import { type ChannelBackend, SupervisedChannel } from "./supervised-channel.js";

export interface CyclerTimings {
  /** Reply timeout per command, ms. */
  timeoutMs: number;
  /** Bound on the first connection, ms. */
  connectTimeoutMs: number;
  /** Pause between re-initialisations after a reconnect, ms. */
  retryMs: number;
  /** Quiet time between commands, ms (instruments that drop commands sent back to back). */
  minGapMs: number;
}

/** Reads options.timeoutMs, connectTimeoutMs, retryMs and minGapMs with the defaults every cycler driver documents. */
export function readCyclerTimings(o: DriverOptionReader): CyclerTimings {
  return {
    timeoutMs: o.positive("timeoutMs", 1000),
    connectTimeoutMs: o.positive("connectTimeoutMs", 5000),
    retryMs: o.positive("retryMs", 1000),
    minGapMs: o.integer("minGapMs", 0, 0, 10_000) ?? 0,
  };
}

export interface SupervisedCyclerOptions {
  deviceId: string;
  channelId: string;
  context: DriverContext;
  transport: Transport;
  timings: CyclerTimings;
  /** False for a transport shared with other devices (a Modbus line). Default true. */
  closeTransportOnFailure?: boolean;
  /** Identifies the instrument, takes remote control and switches the output off. */
  initialize(reason: "connect" | "reconnect"): Promise<void>;
  backend: ChannelBackend;
  ranges(): CyclerRanges;
}

/** Builds the session and its one channel; a lost link stops the channel's stepping at once and is reported. */
export function superviseCycler(options: SupervisedCyclerOptions): {
  session: InstrumentSession;
  channel: SupervisedChannel;
} {
  const { deviceId, context, timings } = options;
  let channel: SupervisedChannel | undefined;
  const session = new InstrumentSession({
    deviceId,
    transport: options.transport,
    ...(options.closeTransportOnFailure === false ? { closeTransportOnFailure: false } : {}),
    initialize: options.initialize,
    onLinkDown: () => channel?.linkLost(),
    onLinkEvent: (event) => context.reportLink?.(deviceId, event),
    connectTimeoutMs: timings.connectTimeoutMs,
    retryMs: timings.retryMs,
  });
  channel = new SupervisedChannel(
    deviceId,
    options.channelId,
    session,
    options.backend,
    context.clock,
    options.ranges,
  );
  return { session, channel };
}
