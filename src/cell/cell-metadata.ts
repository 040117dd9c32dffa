/**
 * What a cell file may say about the cell beyond its limits: where it came from and whose it is.
 * None of it bounds a run; all of it is optional.
 *
 *   maker: LG Chem                     free text, at most 200 characters, one line
 *   lot: "2024-07-A"                   likewise (a YAML number such as 7 is read as "7")
 *   format: 18650                      likewise: 18650, 21700, pouch, prismatic, ...
 *   mass_g: 46.5                       grams: a number, or a string with its unit ("46.5 g", "0.0465 kg")
 *   operator: J. Doe                   who looks after the cell
 *   project: calendar-ageing-2026
 *   notes: |                           at most 4000 characters, line breaks allowed
 *     received with 3.6 V OCV
 */
import { describeValue } from "../profile/units.js";

export interface CellMetadata {
  maker?: string;
  lot?: string;
  format?: string;
  massG?: number;
  operator?: string;
  project?: string;
  notes?: string;
}

/** The one-line text fields, by their key in a cell file. */
const LINE_KEYS = ["maker", "lot", "format", "operator", "project"] as const;
export const METADATA_KEYS: readonly string[] = [
  "maker",
  "lot",
  "format",
  "mass_g",
  "operator",
  "project",
  "notes",
];

export const MAX_LINE_CHARS = 200;
export const MAX_NOTES_CHARS = 4000;

const CONTROL = /[\p{Cc}\p{Cs}]/u;
/** Line breaks and tabs: allowed in notes only. */
const LAYOUT = new Set(["\n", "\r", "\t"]);

function hasControl(text: string, allowLayout: boolean): boolean {
  return [...text].some((ch) => CONTROL.test(ch) && !(allowLayout && LAYOUT.has(ch)));
}

type Issue = (path: string, message: string) => void;

/**
 * Reads the metadata keys of a cell document; reports problems through `issue`. Returns undefined
 * when the document has none of them.
 */
export function parseCellMetadata(doc: Record<string, unknown>, issue: Issue): CellMetadata | undefined {
  const metadata: CellMetadata = {};
  let any = false;
  for (const key of LINE_KEYS) {
    const text = readText(doc[key], key, MAX_LINE_CHARS, false, issue);
    if (text !== undefined) {
      metadata[key] = text;
      any = true;
    }
  }
  const notes = readText(doc.notes, "notes", MAX_NOTES_CHARS, true, issue);
  if (notes !== undefined) {
    metadata.notes = notes;
    any = true;
  }
  const massG = readMass(doc.mass_g, issue);
  if (massG !== undefined) {
    metadata.massG = massG;
    any = true;
  }
  return any ? metadata : undefined;
}

function readText(
  value: unknown,
  key: string,
  maxChars: number,
  allowLayout: boolean,
  issue: Issue,
): string | undefined {
  if (value === undefined) return undefined;
  // YAML reads `lot: 7` and `format: 18650` as numbers; they are labels all the same.
  const text = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== "string") {
    issue(key, `must be text, got ${describeValue(value)}`);
    return undefined;
  }
  const trimmed = text.trim();
  if (trimmed === "") {
    issue(key, "is empty; leave the key out instead");
    return undefined;
  }
  if ([...trimmed].length > maxChars) {
    issue(key, `is ${[...trimmed].length} characters long; shorten it to at most ${maxChars}`);
    return undefined;
  }
  if (hasControl(trimmed, allowLayout)) {
    issue(
      key,
      allowLayout
        ? "contains a control character; only line breaks and tabs are allowed"
        : "contains a control character or line break; keep it to one line (put longer text in notes)",
    );
    return undefined;
  }
  return trimmed;
}

const MASS_UNITS: Readonly<Record<string, number>> = { g: 1, kg: 1000, mg: 0.001 };

function readMass(value: unknown, issue: Issue): number | undefined {
  if (value === undefined) return undefined;
  let grams: number | undefined;
  if (typeof value === "number") grams = value;
  else if (typeof value === "string") {
    const m = /^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(g|kg|mg)\s*$/.exec(value);
    if (m) grams = Number(m[1]) * (MASS_UNITS[m[2] as string] as number);
  }
  if (grams === undefined || !Number.isFinite(grams) || !(grams > 0)) {
    issue(
      "mass_g",
      `must be a positive mass in grams: a number (46.5) or a string with its unit ("46.5 g", "0.0465 kg"), got ${describeValue(value)}`,
    );
    return undefined;
  }
  return grams;
}
