/**
 * What an identity that becomes an InfluxDB tag value (bench, channel, run, cell, chamber; DESIGN §3)
 * may be: the one rule the API, the configuration and the line-protocol encoder share, so that a
 * value accepted at the door is never refused (or dead-lettered) by InfluxDB hours later.
 */

/** 64 characters: any serial number or barcode fits, and series keys (indexed in InfluxDB's memory) stay small. */
export const TAG_VALUE_MAX_CHARS = 64;

/**
 * Control characters (a line break ends the line; 1.x stores tab and NUL as they are, which breaks
 * queries and exports), backslashes (1.x reads them as escapes) and lone surrogates (no UTF-8 form;
 * they arrive as U+FFFD, merging distinct ids).
 */
const UNWRITABLE = /[\p{Cc}\p{Cs}\\]/u;

/** Says which character of `value` a tag cannot carry and what to change, or undefined when there is none. */
export function tagCharacterProblem(value: string): string | undefined {
  const bad = UNWRITABLE.exec(value)?.[0];
  if (bad === undefined) return undefined;
  if (bad === "\\")
    return "contains a backslash, which InfluxDB reads as an escape; remove it or use / instead";
  const code = `U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
  const kind =
    bad === "\n" || bad === "\r"
      ? "a line break"
      : /\p{Cs}/u.test(bad)
        ? "half a surrogate pair"
        : "a control character";
  return `contains ${kind} (${code}); remove it (no control characters or backslashes)`;
}

/**
 * Says what is wrong with `value` as a tag value and what to change (empty, longer than
 * TAG_VALUE_MAX_CHARS characters, or a character a tag cannot carry), or undefined when it is fine.
 */
export function tagValueProblem(value: string): string | undefined {
  if (value === "") return `is empty; give 1 to ${TAG_VALUE_MAX_CHARS} characters`;
  const chars = [...value].length;
  if (chars > TAG_VALUE_MAX_CHARS)
    return `is ${chars} characters long; shorten it to at most ${TAG_VALUE_MAX_CHARS} characters`;
  return tagCharacterProblem(value);
}

/**
 * The ids a bench configuration gives (bench, devices, channels, chambers): a stricter subset of tag
 * values, since they also appear in URLs and on command lines.
 */
export const ID_PATTERN = `^[A-Za-z0-9][A-Za-z0-9_.-]{0,${TAG_VALUE_MAX_CHARS - 1}}$`;

/** ID_PATTERN in words, for error messages. */
export const ID_RULE = `1 to ${TAG_VALUE_MAX_CHARS} letters, digits, "_", "." or "-", starting with a letter or digit`;
