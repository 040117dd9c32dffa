/** Files the CLI client reads and sends: profiles as text, cells as the object the API takes. */
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { UsageError } from "../cli-error.js";

export function readText(path: string, option: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(
      `${option} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}

/** Reads a cell file (YAML or JSON) into the object the API takes. */
export function readCellFile(path: string, option = "--cell"): unknown {
  const doc = parseDocument(readText(path, option), { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new UsageError(
      `${option} ${path}: not valid YAML/JSON: ${doc.errors[0]?.message.split("\n")[0] ?? ""}`,
    );
  }
  return doc.toJS({ maxAliasCount: 50 });
}
