import { defineConfig } from "vitest/config";
import { NO_MEMORY_REDUCER_FLAG } from "./src/sampling/memory-reducer.js";
import { SEMI_SPACE_FLAG } from "./src/sampling/young-generation.js";

/** The attack suite measures the sampling loop's lateness: it runs on its own, after the rest. */
const ATTACKS = "test/src/http/attacks/**/*.test.ts";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "suite", include: ["test/**/*.test.ts"], exclude: [ATTACKS] } },
      // --expose-gc: each measured window starts from a collected heap (attack-bench.ts), so garbage of
      // the test's own set-up (rows written to influxd, say) is not collected inside an attack's window.
      // V8's young generation and memory reducer as the daemon runs with them (npm start, the systemd unit).
      {
        extends: true,
        test: {
          name: "attacks",
          include: [ATTACKS],
          execArgv: ["--expose-gc", SEMI_SPACE_FLAG, NO_MEMORY_REDUCER_FLAG],
        },
      },
    ],
  },
});
