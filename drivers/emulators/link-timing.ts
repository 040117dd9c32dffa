/**
 * Serial link timing for emulators. Pseudo-terminals deliver bytes at once whatever the baud rate,
 * so an emulator that should behave like a real line delays its replies by what the wire would take.
 *
 * "MODBUS over serial line" V1.02, 2.5.1.1: an RTU character is 11 bits (start, 8 data, parity or a
 * second stop bit, stop); frames are separated by at least 3.5 character times; above 19200 baud the
 * spec fixes t3.5 at 1.75 ms. ASCII instruments on 8N1 send 10 bits per character.
 */
import type { OptionReader } from "./emulator-options.js";

/** Whether and how an emulator delays its replies like a serial line would. */
export interface LinkTiming {
  linkTiming: boolean;
  /** Baud rate when the listen address names none. */
  baudRate: number;
  /** Device reply latency under link timing, ms. */
  turnaroundMs: number;
}

/**
 * Reads the link-timing options every wire emulator takes, in this order: `linkTiming` (default
 * false), `baud` (an integer from 300 to `maxBaud`, which is 4 000 000 unless given) and
 * `turnaroundMs` (0 to 10 000, default 0 unless given).
 */
export function readLinkTiming(
  reader: OptionReader,
  defaults: { baud: number; maxBaud?: number; turnaroundMs?: number },
): LinkTiming {
  return {
    linkTiming: reader.boolean("linkTiming", false),
    baudRate: reader.integer("baud", defaults.baud, 300, defaults.maxBaud ?? 4_000_000),
    turnaroundMs: reader.number("turnaroundMs", defaults.turnaroundMs ?? 0, 0, 10_000),
  };
}

/** Returns the time one character takes on the wire, ms. */
export function charTimeMs(baudRate: number, bitsPerChar = 11): number {
  return (bitsPerChar * 1000) / baudRate;
}

/** Returns the RTU inter-frame silence t3.5, ms (1.75 ms above 19200 baud). */
export function frameSilenceMs(baudRate: number): number {
  return baudRate > 19200 ? 1.75 : 3.5 * charTimeMs(baudRate, 11);
}

/**
 * Returns the ideal duration of one FC03 transaction reading N registers, ms: an 8-byte request and a
 * (5 + 2N)-byte reply, each followed by t3.5 ("(13 + 2N)·t_char + 2·t3.5").
 */
export function idealReadTransactionMs(baudRate: number, registers: number): number {
  return (13 + 2 * registers) * charTimeMs(baudRate, 11) + 2 * frameSilenceMs(baudRate);
}

/**
 * Resolves at `deadline` (a performance.now() time) with sub-millisecond accuracy: a timer for the
 * bulk, then event-loop turns (which still serve I/O) for the last stretch, since Node timers only
 * have millisecond resolution.
 */
export async function waitUntil(deadline: number): Promise<void> {
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return;
    if (left > 4) await new Promise<void>((resolve) => setTimeout(resolve, left - 3));
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
