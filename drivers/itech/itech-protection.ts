/**
 * Protection states of the ITECH IT-M3400 as its SCPI interface reports them: bits of the condition
 * register of `STATus:QUEStionable`, set while a protection has tripped and the output is off, until
 * the protection is cleared (`OUTPut:PROTection:CLEar`, or at the front panel).
 *
 * Source: no ITECH programming guide was at hand. The bit numbers below are those a public driver for
 * the ITECH IT6000C (the same SCPI command family: FUNC, CURR:LIM:NEG, POW:LIM:NEG, OUTP:PROT:CLE)
 * decodes (Python package `openbench.drivers.itech_it6000c.protocol`, property `faults`; its repository
 * was not identified) — UNVERIFIED for the IT-M3400:
 * check them on the instrument. The driver always quotes the raw register.
 */

/** Protection bits of `STAT:QUES:COND?` (name, bit number). */
export const ITECH_QUESTIONABLE_PROTECTIONS: ReadonlyArray<readonly [name: string, bit: number]> = [
  ["OVP", 0],
  ["OCP (source)", 1],
  ["OCP (sink)", 2],
  ["OPP (source)", 3],
  ["OPP (sink)", 4],
  ["UVP", 5],
  ["OTP", 6],
  ["UCP", 7],
];

export const ITECH_PROTECTION_QUERY = "STAT:QUES:COND?";

/** Returns the names of the protections set in a `STAT:QUES:COND?` value (none: []). */
export function itechProtectionNames(condition: number): string[] {
  return ITECH_QUESTIONABLE_PROTECTIONS.filter(([, bit]) => (condition & (1 << bit)) !== 0).map(
    ([name]) => name,
  );
}
