/**
 * Compares the text of ASCII replies the way instruments mean it rather than byte for byte: an echo of
 * a command, or a fixed word, may come back with blanks dropped or added and in another case (an Espec
 * P300 answers `TEMP, S28.0` with `OK:TEMP,S28.0`). Only for texts whose tokens are set apart by
 * punctuation (`,` `:` `/`) or that are one word: with the blanks gone, `OUTP ON` equals `OUTPON`.
 */

/** Returns `text` without any whitespace, in upper case: the form compared by `sameLineText`. */
export function canonicalLineText(text: string): string {
  return text.replace(/\s+/g, "").toUpperCase();
}

/** Returns true when `a` and `b` differ at most in whitespace and letter case. */
export function sameLineText(a: string, b: string): boolean {
  return canonicalLineText(a) === canonicalLineText(b);
}
