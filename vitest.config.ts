import { defineConfig } from "vitest/config";

/** The attack suite measures the sampling loop's lateness: it runs on its own, after the rest. */
const ATTACKS = "test/src/http/attacks/**/*.test.ts";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "suite", include: ["test/**/*.test.ts"], exclude: [ATTACKS] } },
      { extends: true, test: { name: "attacks", include: [ATTACKS] } },
    ],
  },
});
