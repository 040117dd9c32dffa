import type { CyclerRanges, CyclerReading } from "../../../drivers/capabilities.js";
import type { InstrumentSession } from "../../../drivers/common/instrument-session.js";
import type { ChannelBackend, LevelSetpoint } from "../../../drivers/common/supervised-channel.js";
import { createMemoryPair, type MemoryPair } from "../../../protocols/index.js";
import { eventually } from "../../support/wait.js";

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** Returns a promise with its resolve and reject functions (Node 20 has no Promise.withResolvers). */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A memory pair that reconnects within a few ms once plugged back in. */
export function fastPair(): MemoryPair {
  return createMemoryPair({ reconnect: { initialDelayMs: 2, maxDelayMs: 10 } });
}

/** Unplugs the pair and waits until the session has seen the drop. */
export async function dropLink(pair: MemoryPair, session: InstrumentSession): Promise<void> {
  pair.unplug();
  await eventually(() => session.state === "link-down", "the session to see the link drop");
}

/** Waits `ms` of real time (only to show that nothing more happens meanwhile). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A channel backend that records what it is asked to send; failures are armed per call. */
export class FakeBackend implements ChannelBackend {
  /** Every call, in order: `levels <set point> (output on|off)`, `output on|off`, `measure`, `forget`. */
  readonly log: string[] = [];
  reading: CyclerReading = { voltageV: 3.71, currentA: 1.5, temperatureC: Number.NaN };
  /** Thrown by the next writeLevels() (then cleared). */
  levelsError: Error | undefined;
  /** Thrown by the next setOutput(on) / setOutput(off) (then cleared). */
  outputError: { on?: Error; off?: Error } = {};
  /** Makes the next writeLevels() report that it switched the output off. */
  switchesOutputOff = false;

  async writeLevels(setpoint: LevelSetpoint, outputOn: boolean): Promise<{ switchedOutputOff?: boolean }> {
    this.log.push(levels(setpoint, outputOn));
    const err = this.levelsError;
    this.levelsError = undefined;
    if (err) throw err;
    const switchedOutputOff = this.switchesOutputOff;
    this.switchesOutputOff = false;
    return switchedOutputOff ? { switchedOutputOff } : {};
  }

  async setOutput(on: boolean): Promise<void> {
    const key = on ? "on" : "off";
    this.log.push(`output ${key}`);
    const err = this.outputError[key];
    this.outputError[key] = undefined;
    if (err) throw err;
  }

  async measure(): Promise<CyclerReading> {
    this.log.push("measure");
    return this.reading;
  }

  forgetSettings(): void {
    this.log.push("forget");
  }
}

/** Returns the log line FakeBackend writes for writeLevels(setpoint, outputOn). */
export function levels(setpoint: LevelSetpoint, outputOn: boolean): string {
  const values = Object.entries(setpoint)
    .filter(([key]) => key !== "mode")
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(" ");
  return `levels ${setpoint.mode} ${values} (output ${outputOn ? "on" : "off"})`;
}

/** Ranges of a 5 V / ±10 A / 50 W channel with every mode. */
export const RANGES: CyclerRanges = {
  voltageV: [0, 5],
  currentA: [-10, 10],
  powerW: 50,
  modes: ["rest", "cc", "cv", "cccv", "cp", "profile"],
};
