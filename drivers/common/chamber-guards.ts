import { ChamberNotConnectedError, ChamberSetpointRangeError } from "./chamber-errors.js";
import type { ChamberSession } from "./chamber-session.js";

/** Throws unless the chamber is connected and its link is ready for `action` (fails fast when the link is down). */
export function requireReady(chamberId: string, session: ChamberSession | undefined, action: string): void {
  if (session === undefined) throw new ChamberNotConnectedError(chamberId, action);
  session.require(action);
}

/** Refuses a set point outside `range` before anything is sent; `limitsFrom` names where the range comes from. */
export function assertSetpointInRange(
  chamberId: string,
  celsius: number,
  range: [number, number],
  limitsFrom: string,
): void {
  if (!Number.isFinite(celsius) || celsius < range[0] || celsius > range[1]) {
    throw new ChamberSetpointRangeError(chamberId, celsius, range, limitsFrom);
  }
}
