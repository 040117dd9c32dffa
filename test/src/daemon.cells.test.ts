/** The daemon's wiring of the cell registry: mounts and histories outlive a restart of the daemon itself. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../drivers/clock.js";
import type { BenchConfig } from "../../src/config/load-config.js";
import { Daemon } from "../../src/daemon.js";
import { parseProfile } from "../../src/profile/document.js";
import { auth, NMC_CELL_BODY, TOKENS, waitFor } from "../support/http-bench.js";
import { simBenchConfig } from "../support/sim-bench.js";

const scratch = mkdtempSync(join(tmpdir(), "cellbench-daemon-cells-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const config: BenchConfig = {
  ...simBenchConfig(),
  store: join(scratch, "bench.db"),
  tokens: [
    { role: "viewer", token: TOKENS.viewer },
    { role: "operator", token: TOKENS.operator },
  ],
};
const PROFILE = parseProfile(
  "name: cycle\nsteps:\n  - repeat: 1\n    steps:\n      - Discharge at 1C for 6 minutes\n      - Charge at 1C for 6 minutes\n",
  { sourceName: "test" },
);

async function daemon(): Promise<Daemon> {
  return Daemon.start({ config, logger: pino({ level: "silent" }), clock: new VirtualClock({ auto: true }) });
}

/** Runs the profile on the cell mounted on ch1 (the API route does the same; its parse on the profile worker is left out here). */
async function runOnCh1(d: Daemon, id: string): Promise<string> {
  await d.runs.create({ channel: "ch1", cell: d.cells.cellForRun("ch1", undefined), profile: PROFILE }, id);
  await waitFor(() => d.runs.get(id).state === "completed", `run ${id}`, 60_000);
  return id;
}

describe("the daemon's cells", () => {
  it("keeps registered cells, their mounts and histories across a restart", async () => {
    const first = await daemon();
    const app1 = first.app as NonNullable<Daemon["app"]>;
    const registered = await app1.inject({
      method: "POST",
      url: "/api/v1/cells",
      headers: auth("operator"),
      payload: { ...NMC_CELL_BODY, project: "restart" },
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const mounted = await app1.inject({
      method: "PUT",
      url: "/api/v1/channels/ch1/cell",
      headers: auth("operator"),
      payload: { cell: "NMC-0042" },
    });
    expect(mounted.statusCode, mounted.body).toBe(200);
    const r1 = await runOnCh1(first, "R20261204-0001");
    await first.stop({ drainTimeoutMs: 0 });

    const second = await daemon();
    try {
      const r2 = await runOnCh1(second, "R20261204-0002");
      const cell = second.cells.get("NMC-0042");
      expect(cell.mount?.channel).toBe("ch1");
      expect(cell.stored.cell.metadata?.project).toBe("restart");
      expect(cell.stored.history.runs.map((r) => r.run)).toEqual([r1, r2]);
      expect(cell.summary.cycleCount).toBe(2);
      expect(cell.summary.dischargeAh).toBeCloseTo(2 * 0.3, 2);
    } finally {
      await second.stop({ drainTimeoutMs: 0 });
    }
  });
});
