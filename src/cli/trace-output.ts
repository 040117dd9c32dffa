import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { UsageError } from "./cli-error.js";

/** Where `profile check` writes its trace: a file, or stdout (`--out -`). */
export type TraceTarget = { to: "file"; path: string } | { to: "stdout" };

/**
 * The trace's destination from `--out` and `--trace`; undefined when neither is given (then nothing is
 * written, in the working directory or anywhere else).
 *
 *   --out FILE    that file (relative to the working directory), replaced if it exists
 *   --out DIR     DIR/<profile name>.trace.csv, when DIR is a directory (or ends with a slash)
 *   --out -       stdout (the summary goes to stderr)
 *   --trace       <profile name>.trace.csv in a new private directory of the OS temp dir
 */
export function traceTarget(
  options: { out?: string | undefined; trace?: boolean | undefined },
  profileName: string,
  tempDir: string = tmpdir(),
): TraceTarget | undefined {
  const { out, trace } = options;
  if (out !== undefined && trace)
    throw new UsageError("give --out PATH or --trace (a file in the OS temp dir), not both");
  if (trace)
    return {
      to: "file",
      path: join(mkdtempSync(join(tempDir, "cellbench-trace-")), traceFileName(profileName)),
    };
  if (out === undefined) return undefined;
  if (out === "") throw new UsageError("--out needs a path: a file, a directory, or - for stdout");
  if (out === "-") return { to: "stdout" };
  if (out.endsWith("/") || out.endsWith(sep) || isDirectory(out))
    return { to: "file", path: join(out, traceFileName(profileName)) };
  return { to: "file", path: out };
}

/** `<profile name>.trace.csv`, with anything but letters, digits, `.`, `_` and `-` made a `-`. */
export function traceFileName(profileName: string): string {
  return `${profileName.replace(/[^\w.-]+/g, "-").replace(/^\.+/, "") || "profile"}.trace.csv`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
