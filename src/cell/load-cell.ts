import { readFileSync } from "node:fs";
import { parseYamlText } from "../profile/yaml-text.js";
import { type Cell, CellError, parseCell } from "./cell.js";

/** Parses cell YAML/JSON text; throws CellError (CELL_INVALID) for bad YAML or a bad cell. */
export function parseCellText(text: string, sourceName: string): Cell {
  const parsed = parseYamlText(text);
  if (!parsed.ok) {
    throw new CellError(
      parsed.errors.map((e) => ({ path: "", message: `${sourceName}: not valid YAML/JSON: ${e}` })),
      sourceName,
    );
  }
  return parseCell(parsed.value, sourceName);
}

/** Reads a cell file (YAML or JSON) and resolves it against its chemistry envelope. */
export function loadCellFile(path: string): Cell {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new CellError([{ path: "", message: `cannot read cell file ${path} (${reason})` }], path);
  }
  return parseCellText(text, path);
}
