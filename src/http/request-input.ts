/**
 * Cells and profiles from request bodies: parsed by the same parsers as files, with every issue's
 * path prefixed by the field it came from (`body.cell.capacity_ah`, `body.profile.steps[2]`).
 * Over HTTP a profile may only read drive-cycle files from a configured folder.
 */

import { readFileSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { type Cell, CellError, parseCell } from "../cell/cell.js";
import type { Profile } from "../profile/ast.js";
import { parseProfile } from "../profile/document.js";
import { ProfileError } from "../profile/profile-error.js";
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
  try {
    const profile = parseProfile(value, {
      sourceName: field,
      ...(options.driveCycleDir ? { baseDir: resolve(options.driveCycleDir) } : {}),
      readFile: (path) => readDriveCycle(path, options.driveCycleDir),
    });
    return { profile, source, format };
  } catch (err) {
    if (err instanceof ProfileError) throw prefixProfileError(err, field);
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

function readDriveCycle(path: string, dir: string | undefined): string {
  if (!dir) {
    throw new Error(
      "drive-cycle files are not read over the API unless the daemon is given a drive-cycle folder; store the profile's cycles there",
    );
  }
  const root = resolve(dir);
  const rel = relative(root, resolve(path));
  if (
    rel === "" ||
    rel.startsWith("..") ||
    rel.includes(`..${sep}`) ||
    resolve(root, rel) !== resolve(path)
  ) {
    throw new Error(
      "drive-cycle files must lie inside the daemon's drive-cycle folder; give a path relative to it",
    );
  }
  return readFileSync(resolve(root, rel), "utf8");
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
