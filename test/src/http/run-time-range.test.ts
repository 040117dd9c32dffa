import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RUN_DASHBOARD_UID, runDashboardPath, runTimeRange } from "../../../src/http/run-time-range.js";
import type { HttpBench } from "../../support/http-bench.js";
import { auth, NMC_CELL_BODY, openHttpBench } from "../../support/http-bench.js";

let h: HttpBench | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("a run's own time range", () => {
  it("runs from creation to the last time the run ended; a resumed run has not ended", () => {
    const history = [
      { state: "queued" as const, tWallMs: 1000 },
      { state: "running" as const, tWallMs: 1001 },
      { state: "faulted" as const, tWallMs: 5000 },
    ];
    expect(runTimeRange({ createdMs: 1000, history })).toEqual({ fromMs: 1000, toMs: 5000 });
    expect(
      runTimeRange({
        createdMs: 1000,
        history: [
          ...history.slice(0, 2),
          { state: "interrupted", tWallMs: 3000 },
          { state: "running", tWallMs: 9000 },
        ],
      }),
    ).toEqual({ fromMs: 1000, toMs: undefined });
  });

  it("links the run dashboard on the run's bench, channel and run, over its range (now while it runs)", () => {
    const run = { id: "R20261203-0001", channel: "ch 2", bench: "sim1" };
    expect(runDashboardPath(run, { fromMs: 1_000_000, toMs: 2_000_000 }, 9_999_999)).toBe(
      `/d/${RUN_DASHBOARD_UID}?from=940000&to=2060000&var-bench=sim1&var-channel=ch+2&var-run=R20261203-0001`,
    );
    expect(runDashboardPath(run, { fromMs: 1_000_000, toMs: undefined }, 3_000_000)).toContain(
      "from=940000&to=3060000&",
    );
  });

  it("names the dashboard that dashboards/cellbench-run.json provisions", () => {
    const dashboard = JSON.parse(
      readFileSync(join(import.meta.dirname, "..", "..", "..", "dashboards", "cellbench-run.json"), "utf8"),
    ) as { uid: string; templating: { list: { name: string }[] } };
    expect(dashboard.uid).toBe(RUN_DASHBOARD_UID);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(
      expect.arrayContaining(["bench", "channel", "run"]),
    );
  });

  it("is part of every run view, in bench-clock (simulated) wall time", async () => {
    h = await openHttpBench();
    const created = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      headers: auth("operator"),
      payload: {
        channel: "ch1",
        cell: NMC_CELL_BODY,
        profile: { name: "short", steps: ["Rest for 10 seconds"] },
      },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    const startedAt = h.bench.clock.wallNow();
    const view = (
      await h.app.inject({ method: "GET", url: `/api/v1/runs/${id}`, headers: auth("viewer") })
    ).json();
    expect(view.time_range.from).toBe(new Date(startedAt).toISOString());
    expect(view.dashboard).toContain(`var-run=${id}`);
    expect(view.dashboard).toContain(`from=${startedAt - 60_000}&`);
    // The virtual clock starts on 2026-01-01: the view goes by the bench clock, never the host's.
    expect(Math.abs(startedAt - Date.now())).toBeGreaterThan(86_400_000);
  });
});
