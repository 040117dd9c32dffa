import { CellbenchError } from "../cellbench-error.js";

/** The four fields of an IEEE 488.2 `*IDN?` reply. */
export interface InstrumentIdentity {
  manufacturer: string;
  model: string;
  serial: string;
  firmware: string;
  /** The reply as received. */
  raw: string;
}

/** What a driver accepts: a RegExp, or a string matched case-insensitively as a substring. */
export interface IdentityPattern {
  manufacturer?: RegExp | string;
  model?: RegExp | string;
}

/** The instrument that answered is not the one the driver is for. */
export class IdentityMismatchError extends CellbenchError {
  constructor(
    readonly expected: string,
    readonly found: string,
    source: string,
  ) {
    super(
      "IDENTITY_MISMATCH",
      `Expected ${expected} but ${source} answered "${found}"; check that the transport URL points at the ` +
        "right instrument, or configure the driver that matches it",
    );
  }
}

/** Splits an `*IDN?` reply (`manufacturer,model,serial,firmware`); fields beyond the fourth stay in firmware. */
export function parseIdn(reply: string): InstrumentIdentity {
  const raw = reply.trim();
  const [manufacturer = "", model = "", serial = "", ...rest] = raw.split(",").map((field) => field.trim());
  return { manufacturer, model, serial, firmware: rest.join(","), raw };
}

/** Throws IdentityMismatchError unless `identity` matches `pattern`. */
export function checkIdentity(
  identity: InstrumentIdentity,
  pattern: IdentityPattern,
  source = "*IDN?",
): void {
  const wanted: string[] = [];
  let ok = true;
  for (const field of ["manufacturer", "model"] as const) {
    const expected = pattern[field];
    if (expected === undefined) continue;
    wanted.push(`${field} ${describePattern(expected)}`);
    if (!matches(identity[field], expected)) ok = false;
  }
  if (!ok)
    throw new IdentityMismatchError(`an instrument with ${wanted.join(" and ")}`, identity.raw, source);
}

function matches(value: string, expected: RegExp | string): boolean {
  if (typeof expected === "string") return value.toLowerCase().includes(expected.toLowerCase());
  expected.lastIndex = 0;
  return expected.test(value);
}

function describePattern(expected: RegExp | string): string {
  return typeof expected === "string" ? `containing "${expected}"` : `matching ${expected}`;
}
