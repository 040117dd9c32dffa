/**
 * Cells and profiles from request bodies: parsed by the same parsers as files, with every issue's
 * path prefixed by the field it came from (`body.cell.capacity_ah`, `body.profile.steps[2]`).
 * Over HTTP a profile may only read drive-cycle files from a configured folder, and its errors name
 * those files relative to that folder: a client never sees an absolute path of the server.
 */

import { readdirSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { type Cell, CellError, parseCell } from "../cell/cell.js";
import type { Profile } from "../profile/ast.js";
import { ProfileTypeError, parseProfile } from "../profile/document.js";
import { ProfileError } from "../profile/profile-error.js";
import { closest } from "../profile/suggest.js";
import { MAX_TEXT_FILE_BYTES, readTextFile } from "../profile/text-file.js";
import { isNumberText } from "../profile/units.js";
import { tagValueProblem } from "../storage/tag-values.js";
import { RequestInvalidError, type RequestIssue } from "./http-errors.js";

/** Deepest nesting of objects and arrays accepted in a body. */
export const MAX_BODY_DEPTH = 64;

export interface ProfileSourceOptions {
  /** Folder whose CSV files profiles may follow (`Discharge following udds.csv`); none: drive cycles refused. */
  driveCycleDir?: string | undefined;
}

export interface ParsedProfileInput {
  profile: Profile;
  /** The document as text: YAML/JSON as sent, or the JSON of an object. */
  source: string;
  format: "yaml" | "json";
}

/** Throws RequestInvalidError when a JSON value nests deeper than MAX_BODY_DEPTH. */
export function assertDepth(value: unknown, field: string, max = MAX_BODY_DEPTH): void {
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 0 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop() as { v: unknown; d: number };
    if (v === null || typeof v !== "object") continue;
    if (d >= max) {
      throw new RequestInvalidError([
        {
          path: field,
          message: `nests deeper than ${max} levels; flatten it (a profile rarely needs more than 5)`,
        },
      ]);
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, d: d + 1 });
  }
}

/**
 * Parses the cell of a request; issues are prefixed with `field`. JSON types are checked first and
 * strictly (400): cell files are YAML, where `id: 0042` is a number, so the cell parser accepts
 * numbers as ids and numbers in quotes as quantities, but a JSON client sending them has a bug.
 */
export function readCell(value: unknown, field: string): Cell {
  assertCellTypes(value, field);
  return parseCellAt(value, field);
}

/** Throws RequestInvalidError (400) when the JSON types of a cell (or of changes to one) are wrong. */
export function assertCellTypes(value: unknown, field: string): void {
  const typeIssues = cellTypeIssues(value, field);
  if (typeIssues.length > 0) throw new RequestInvalidError(typeIssues);
}

/**
 * Parses a cell with the leniency of a cell file (`id: 0042`, `lot: 7`), issues prefixed with
 * `field`: for YAML text, and for documents whose parts were type-checked when they came in.
 */
export function parseCellAt(value: unknown, field: string): Cell {
  try {
    return parseCell(value, field);
  } catch (err) {
    if (err instanceof CellError) {
      throw new CellError(
        err.issues.map((i) => ({ path: join(field, i.path), message: i.message })),
        field,
      );
    }
    throw unexpected(err, field, "CELL_INVALID");
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The keys of a cell (and of its override) that hold [min, max] quantities, with an example. */
const CELL_RANGES: Record<string, string> = {
  voltage: '"4.2 V"',
  current: '"-6 A"',
  temperature: '"45 °C"',
  charge_temperature: '"45 °C"',
  discharge_temperature: '"60 °C"',
};

/** What is wrong with the JSON types of a request's cell (nothing for what the cell parser judges). */
function cellTypeIssues(value: unknown, field: string): RequestIssue[] {
  if (!isObject(value)) return [];
  const issues: RequestIssue[] = [];
  const issue = (path: string, message: string): void => {
    issues.push({ path: `${field}.${path}`, message });
  };
  const text = (v: unknown, path: string, example: string): v is string => {
    if (v !== undefined && typeof v !== "string") {
      issue(path, `must be a string such as ${example}, got ${jsonType(v)}; put it in quotes`);
    }
    return typeof v === "string";
  };
  const quantity = (v: unknown, path: string, example: string): void => {
    if (typeof v === "number" || (typeof v === "string" && !isNumberText(v))) return;
    if (typeof v !== "string") {
      issue(path, `must be a number or a string with its unit such as ${example}, got ${jsonType(v)}`);
      return;
    }
    const short = v.length <= 32;
    issue(
      path,
      `${short ? JSON.stringify(v) : "the text"} is a number in quotes; send ${short ? v.trim() : "it"} without quotes, or with its unit such as ${example}`,
    );
  };
  const ranges = (obj: Json, prefix: string, keys: string[]): void => {
    for (const key of keys) {
      const v = obj[key];
      if (v === undefined) continue;
      if (!Array.isArray(v)) {
        issue(`${prefix}${key}`, `must be [min, max], got ${jsonType(v)}`);
        continue;
      }
      for (const [i, item] of v.entries()) quantity(item, `${prefix}${key}[${i}]`, CELL_RANGES[key] ?? "");
    }
  };

  if (text(value.id, "id", '"NMC-0042"')) {
    const problem = tagValueProblem(value.id.trim());
    if (problem !== undefined) issue("id", problem);
  }
  text(value.chemistry, "chemistry", '"li-ion-nmc"');
  text(value.description, "description", '"18650 from lot 7"');
  for (const key of ["maker", "lot", "format", "operator", "project", "notes"])
    text(value[key], key, '"2024-07-A"');
  if (value.capacity_ah !== undefined) quantity(value.capacity_ah, "capacity_ah", '"3 Ah"');
  ranges(value, "", Object.keys(CELL_RANGES));
  if (Array.isArray(value.derating))
    for (const [i, point] of value.derating.entries()) {
      if (!isObject(point)) continue;
      quantity(point.temperature, `derating[${i}].temperature`, '"10 °C"');
      quantity(point.charge, `derating[${i}].charge`, '"1.5 A"');
      quantity(point.discharge, `derating[${i}].discharge`, '"6 A"');
    }
  const override = value.override;
  if (override !== undefined && !isObject(override)) {
    issue(
      "override",
      `must be an object such as { "reason": "datasheet rev 2", "voltage": [2.5, 4.3] }, got ${jsonType(override)}`,
    );
  } else if (override !== undefined) {
    text(override.reason, "override.reason", '"datasheet rev 2 allows 4.3 V"');
    const widenable = Object.keys(CELL_RANGES).filter((k) => k !== "current");
    ranges(override, "override.", widenable);
  }
  return issues;
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return "a string";
  return `the ${typeof v} ${String(v)}`;
}

/**
 * Parses a profile given as an object or as YAML/JSON text; issues are prefixed with `field`.
 * An object is parsed strictly: a value of the wrong JSON type (a number in quotes for a quantity,
 * a number for a label) is a 400, as for the cell. Text keeps YAML's leniency: its authors write
 * `chamber: 25` and `chamber: "25"` alike. The profile's name is bounded like the ids stored with
 * every run (400 when it is not).
 */
export function readProfile(
  value: unknown,
  field: string,
  options: ProfileSourceOptions = {},
): ParsedProfileInput {
  const isText = typeof value === "string";
  const source = isText ? value : JSON.stringify(value);
  const format = isText && !/^\s*[{[]/.test(value) ? "yaml" : "json";
  const driveCycles = new DriveCycleFolder(options.driveCycleDir);
  let profile: Profile;
  try {
    profile = parseProfile(value, {
      sourceName: field,
      strict: !isText,
      baseDir: driveCycles.base,
      readFile: (path) => driveCycles.read(path),
    });
  } catch (err) {
    if (err instanceof ProfileTypeError) {
      throw new RequestInvalidError(
        err.issues.map((i) => ({ path: join(field, i.path), message: i.message })),
      );
    }
    if (err instanceof ProfileError) throw prefixProfileError(driveCycles.relativise(err), field);
    throw unexpected(err, field, "PROFILE_INVALID");
  }
  const nameProblem = tagValueProblem(profile.name);
  if (nameProblem !== undefined) {
    throw new RequestInvalidError([{ path: join(field, "name"), message: nameProblem }]);
  }
  return { profile, source, format };
}

/** Returns a copy of a ProfileError whose issue paths start with `field`. */
export function prefixProfileError(err: ProfileError, field: string): ProfileError {
  return new ProfileError(
    err.issues.map((i) => ({
      path: join(field, i.path),
      message: i.message.replace(/^body\.profile: /, ""),
    })),
    field,
  );
}

/**
 * The drive-cycle files one API profile reads: only inside the configured folder, and every failure
 * remembered so that relativise() can say what is wrong with the path as the client wrote it
 * (relative to the folder) instead of the absolute path the profile parser puts in its message.
 */
class DriveCycleFolder {
  /** What relative paths resolve against: the folder, or (none configured) the working directory. */
  readonly base: string;
  private readonly root: string | undefined;
  private readonly failures = new Map<string, string>();

  constructor(dir: string | undefined) {
    this.root = dir ? resolve(dir) : undefined;
    this.base = this.root ?? process.cwd();
  }

  /** Reads a drive-cycle file (absolute path from the parser); throws after recording why not. */
  read(absolute: string): string {
    const shown = this.shown(absolute);
    const fail = (why: string): never => {
      this.failures.set(absolute, why);
      throw new Error(why);
    };
    const named = shown === undefined ? "the drive cycle" : `drive cycle ${shown}`;
    if (!this.root) {
      return fail(
        `cannot read ${named}: this daemon has no drive-cycle folder, so profiles sent over the API cannot follow CSV files; ` +
          "the bench admin can create a drive-cycles folder beside the bench configuration and put the file there",
      );
    }
    const outside =
      'the drive cycle lies outside the daemon\'s drive-cycle folder; give a path relative to that folder, without ".." or a leading "/"';
    if (shown === undefined || this.leavesFolder(absolute)) return fail(outside);
    if (shown === ".") {
      return fail("the path names the daemon's drive-cycle folder itself; name a CSV file in it");
    }
    try {
      return readTextFile(absolute);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      if (code === "ENOTREG")
        return fail(
          `cannot read ${named}: it is not a regular file (a FIFO, device or socket); name a CSV file in the folder`,
        );
      if (code === "EFBIG")
        return fail(
          `cannot read ${named}: it is larger than ${MAX_TEXT_FILE_BYTES / 1024 / 1024} MiB; split the trace into shorter files`,
        );
      if (code === "ENOENT" || code === "ENOTDIR") {
        return fail(
          `cannot read ${named}: no such file in the daemon's drive-cycle folder${this.suggest(absolute)}; check the name (paths are relative to that folder)`,
        );
      }
      if (code === "EISDIR") return fail(`cannot read ${named}: it is a folder; name a CSV file in it`);
      if (code === "EACCES" || code === "EPERM") {
        return fail(
          `cannot read ${named}: the daemon is not allowed to read it (${code}); the bench admin can fix the file's permissions`,
        );
      }
      return fail(`cannot read ${named} (${code}); check the file in the daemon's drive-cycle folder`);
    }
  }

  /**
   * Rewrites the parser's "cannot read drive cycle <absolute path> (...)" issues with the recorded
   * reasons, which name the file relative to the folder, or not at all when it lies outside.
   */
  relativise(err: ProfileError): ProfileError {
    if (this.failures.size === 0) return err;
    const issues = err.issues.map((issue) => {
      let message = issue.message;
      for (const [absolute, why] of this.failures) {
        const at = message.lastIndexOf(`cannot read drive cycle ${absolute}`);
        if (at >= 0) {
          message = `${message.slice(0, at)}${why}`;
        } else if (absolute.length > 1 && message.includes(absolute)) {
          // Only if the parser words its message differently one day: never let the absolute path through.
          message = message
            .split(absolute)
            .join(this.shown(absolute) ?? "(a path outside the drive-cycle folder)");
        }
      }
      return message === issue.message ? issue : { path: issue.path, message };
    });
    return new ProfileError(issues, err.source);
  }

  /** The path relative to the base with "/" separators ("." for the base), or undefined outside it. */
  /** True when the path, its symbolic links followed, ends outside the folder (a link pointing out of it). */
  private leavesFolder(absolute: string): boolean {
    let real: string;
    try {
      real = realpathSync(absolute);
    } catch {
      return false; // Missing or unreadable: the read below says which.
    }
    const rel = relative(realpathSync(this.root as string), real);
    return rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  }

  private shown(absolute: string): string | undefined {
    const rel = relative(this.base, resolve(absolute));
    if (rel === "") return ".";
    if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
    return rel.split(sep).join("/");
  }

  /** ` (did you mean "cycles/udds.csv"?)` from the CSV files beside a missing one, inside the folder. */
  private suggest(absolute: string): string {
    const folder = dirname(resolve(absolute));
    const shownFolder = this.shown(folder);
    if (shownFolder === undefined) return "";
    let names: string[];
    try {
      names = readdirSync(folder).filter((n) => /\.(csv|txt)$/i.test(n));
    } catch {
      return "";
    }
    const match = closest(basename(absolute), names);
    if (match === undefined) return "";
    return ` (did you mean "${shownFolder === "." ? match : `${shownFolder}/${match}`}"?)`;
  }
}

function join(field: string, path: string): string {
  if (!path) return field;
  return path.startsWith("[") ? `${field}${path}` : `${field}.${path}`;
}

/**
 * A parser threw something other than its own error on hostile input (e.g. a YAML alias bomb):
 * that is still the client's document at fault, so answer 422, not 500.
 */
function unexpected(err: unknown, field: string, code: "CELL_INVALID" | "PROFILE_INVALID"): CellbenchError {
  if (err instanceof CellbenchError) return err;
  const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
  const issues = [{ path: field, message: `cannot be read (${reason}); send a plain YAML/JSON document` }];
  return code === "CELL_INVALID" ? new CellError(issues, field) : new ProfileError(issues, field);
}
