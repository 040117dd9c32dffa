import { LineCounter, parseDocument } from "yaml";

/** Parses YAML (and so JSON) text; returns the value, or one message per syntax error with its line and column. */
export function parseYamlText(text: string): { ok: true; value: unknown } | { ok: false; errors: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length === 0) {
    try {
      // The yaml package refuses documents whose aliases would expand without bound ("billion laughs").
      return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
    } catch (err) {
      return {
        ok: false,
        errors: [`${(err as Error).message}; write the values out instead of repeating aliases`],
      };
    }
  }
  return {
    ok: false,
    errors: doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return `line ${line}, column ${col}: ${e.message.split("\n")[0]}`;
    }),
  };
}
