import { IdentityMismatchError, type InstrumentIdentity } from "../../protocols/index.js";

/**
 * Throws when the instrument answering after a reconnect is not the one seen at connect (same model
 * and serial): a driver must never drive a different instrument that appeared behind the same link.
 */
export function assertSameInstrument(
  first: InstrumentIdentity | undefined,
  now: InstrumentIdentity,
  where: string,
): void {
  if (first && (now.model !== first.model || now.serial !== first.serial)) {
    throw new IdentityMismatchError(`${first.model} serial ${first.serial}`, now.raw, where);
  }
}
