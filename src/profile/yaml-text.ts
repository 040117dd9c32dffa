import { LineCounter, parseDocument } from "yaml";

/** Parses YAML (and so JSON) text; returns the value, or one message per syntax error with its line and column. */
export function parseYamlText(text: string): { ok: true; value: unknown } | { ok: false; errors: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length === 0) return { ok: true, value: doc.toJS() };
  return {
    ok: false,
    errors: doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return `line ${line}, column ${col}: ${e.message.split("\n")[0]}`;
    }),
  };
}
