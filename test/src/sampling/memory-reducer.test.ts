import { describe, expect, it } from "vitest";
import {
  logMemoryReducer,
  memoryReducerOff,
  NO_MEMORY_REDUCER_FLAG,
} from "../../../src/sampling/memory-reducer.js";
import { npmScriptNodeFlags } from "../../support/npm-start.js";

describe("memoryReducerOff", () => {
  it("reads the command line in either spelling; the last one given wins", () => {
    expect(memoryReducerOff([])).toBe(false);
    expect(memoryReducerOff(["--expose-gc", "--max-semi-space-size=8"])).toBe(false);
    expect(memoryReducerOff([NO_MEMORY_REDUCER_FLAG])).toBe(true);
    expect(memoryReducerOff(["--no-memory_reducer"])).toBe(true);
    expect(memoryReducerOff([NO_MEMORY_REDUCER_FLAG, "--memory-reducer"])).toBe(false);
    expect(memoryReducerOff(["--memory-reducer", NO_MEMORY_REDUCER_FLAG])).toBe(true);
  });

  it("is not fooled by the reducer's other flags", () => {
    expect(memoryReducerOff(["--no-memory-reducer-for-small-heaps"])).toBe(false);
  });
});

describe("logMemoryReducer", () => {
  const logged = (off: boolean) => {
    const lines: { level: string; message: string }[] = [];
    logMemoryReducer(
      {
        info: (message: unknown) => void lines.push({ level: "info", message: String(message) }),
        warn: (message: unknown) => void lines.push({ level: "warn", message: String(message) }),
      } as never,
      off,
    );
    return lines;
  };

  it("is quiet (info) when the reducer is off", () => {
    expect(logged(true).map((l) => l.level)).toEqual(["info"]);
  });

  it("warns with the flag to add when it is on", () => {
    const [line, ...more] = logged(false);
    expect(more).toEqual([]);
    expect(line?.level).toBe("warn");
    expect(line?.message).toContain(NO_MEMORY_REDUCER_FLAG);
  });
});

it("npm start and npm run bench run node with the memory reducer off, before the script", () => {
  for (const name of ["start", "bench"]) expect(memoryReducerOff(npmScriptNodeFlags(name)), name).toBe(true);
});

it("the attack tests run as the daemon does: memory reducer off", async () => {
  const config = (await import("../../../vitest.config.js")).default as {
    test: { projects: { test: { name: string; execArgv?: string[] } }[] };
  };
  const attacks = config.test.projects.find((p) => p.test.name === "attacks");
  expect(memoryReducerOff(attacks?.test.execArgv ?? [])).toBe(true);
});
