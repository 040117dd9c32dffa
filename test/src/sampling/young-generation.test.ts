import { describe, expect, it } from "vitest";
import {
  logYoungGeneration,
  SEMI_SPACE_FLAG,
  SEMI_SPACE_MIB,
  semiSpaceCap,
} from "../../../src/sampling/young-generation.js";
import { npmScriptNodeFlags } from "../../support/npm-start.js";

describe("semiSpaceCap", () => {
  it("reads the cap from the command line or NODE_OPTIONS, in either spelling; the command line wins", () => {
    expect(semiSpaceCap([], "")).toBeUndefined();
    expect(semiSpaceCap(["--expose-gc"], "--max-old-space-size=512")).toBeUndefined();
    expect(semiSpaceCap([SEMI_SPACE_FLAG], "")).toBe(SEMI_SPACE_MIB);
    expect(semiSpaceCap([], "--max_semi_space_size=4")).toBe(4);
    expect(semiSpaceCap(["--max-semi-space-size", "2"], "")).toBe(2);
    expect(semiSpaceCap(["--max-semi-space-size=16"], "  --max-semi-space-size=8 ")).toBe(16);
  });

  it("ignores a value that is not a size", () => {
    expect(semiSpaceCap(["--max-semi-space-size=lots"], "")).toBeUndefined();
  });
});

describe("logYoungGeneration", () => {
  const logged = (cap: number | undefined) => {
    const lines: { level: string; fields: unknown; message: string }[] = [];
    logYoungGeneration(
      {
        info: (fields: unknown, message?: string) =>
          void lines.push({ level: "info", fields, message: message ?? "" }),
        warn: (fields: unknown, message?: string) =>
          void lines.push({ level: "warn", fields, message: message ?? "" }),
      } as never,
      cap,
    );
    return lines;
  };

  it("is quiet (info) when the daemon runs capped at or below the cap", () => {
    expect(logged(SEMI_SPACE_MIB).map((l) => l.level)).toEqual(["info"]);
    expect(logged(4).map((l) => l.level)).toEqual(["info"]);
  });

  it("warns with the flag to add when the young generation is V8's default or larger", () => {
    for (const cap of [undefined, 16]) {
      const [line] = logged(cap);
      expect(line?.level).toBe("warn");
      expect(line?.message).toContain(SEMI_SPACE_FLAG);
      expect(line?.fields).toEqual({ semiSpaceMiB: cap ?? null });
    }
  });
});

it("npm start and npm run bench run node with the young generation capped", () => {
  for (const name of ["start", "bench"])
    expect(semiSpaceCap(npmScriptNodeFlags(name), ""), name).toBe(SEMI_SPACE_MIB);
});
