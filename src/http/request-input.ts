/**
 * Cells and profiles from request bodies: parsed by the same parsers as files, with every issue's
 * path prefixed by the field it came from (`body.cell.capacity_ah`, `body.profile.steps[2]`).
 * Over HTTP a profile may only read drive-cycle files from a configured folder, and its errors name
 * those files relative to that folder: a client never sees an absolute path of the server.
 */

import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { type Cell, CellError, parseCell } from "../cell/cell.js";
import type { Profile } from "../profile/ast.js";
import { parseProfile } from "../profile/document.js";
import { ProfileError } from "../profile/profile-error.js";
import { closest } from "../profile/suggest.js";
import { RequestInvalidError } from "./http-errors.js";

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

/** Parses the cell of a request; issues are prefixed with `field`. */
export function readCell(value: unknown, field: string): Cell {
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

/** Parses a profile given as an object or as YAML/JSON text; issues are prefixed with `field`. */
export function readProfile(
  value: unknown,
  field: string,
  options: ProfileSourceOptions = {},
): ParsedProfileInput {
  const isText = typeof value === "string";
  const source = isText ? value : JSON.stringify(value);
  const format = isText && !/^\s*[{[]/.test(value) ? "yaml" : "json";
  const driveCycles = new DriveCycleFolder(options.driveCycleDir);
  try {
    const profile = parseProfile(value, {
      sourceName: field,
      baseDir: driveCycles.base,
      readFile: (path) => driveCycles.read(path),
    });
    return { profile, source, format };
  } catch (err) {
    if (err instanceof ProfileError) throw prefixProfileError(driveCycles.relativise(err), field);
    throw unexpected(err, field, "PROFILE_INVALID");
  }
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
      return readFileSync(absolute, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
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
