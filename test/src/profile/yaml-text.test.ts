import { describe, expect, it } from "vitest";
import { parseYamlText } from "../../../src/profile/yaml-text.js";

describe("parseYamlText", () => {
  it("refuses an alias bomb with a message instead of expanding it", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${prev}`).join(", ")}]`,
      );
    }
    expect(parseYamlText(lines.join("\n"))).toEqual({
      ok: false,
      errors: [
        "Excessive alias count indicates a resource exhaustion attack; write the values out instead of repeating aliases",
      ],
    });
  });

  it("still resolves a few honest aliases", () => {
    expect(parseYamlText("base: &b { every: 1 s }\nlog: *b\n")).toEqual({
      ok: true,
      value: { base: { every: "1 s" }, log: { every: "1 s" } },
    });
  });
});
