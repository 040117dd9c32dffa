import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Profile } from "./ast.js";
import { parseProfile } from "./document.js";
import { ProfileError } from "./profile-error.js";

/**
 * Reads and parses a profile file (YAML or JSON); drive-cycle files resolve relative to its folder.
 * Throws ProfileError (PROFILE_INVALID), also when the file cannot be read.
 */
export function loadProfileFile(path: string): Profile {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, "utf8");
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ProfileError([{ path: "", message: `cannot read profile ${absolute} (${reason})` }], path);
  }
  return parseProfile(text, { sourceName: path, baseDir: dirname(absolute) });
}
