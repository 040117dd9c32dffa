/** A run started over HTTP on the simulated bench at full speed, followed to its end. */
import { afterEach, describe, expect, it } from "vitest";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench, waitFor } from "../../support/http-bench.js";

const PROFILE = `name: discharge-charge
steps:
  - Rest for 10 minutes
  - Discharge at 1C until 3.0 V
  - Rest for 10 minutes
  - Charge at 1C to 4.2 V, hold until C/20
`;

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

describe("a run over HTTP at high speed", () => {
  it("completes with the state history queued → running → completed and believable totals", async () => {
    h = await openHttpBench({ auto: true, estimate: true });
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      headers: auth("operator"),
      payload: { channel: "ch1", cell: NMC_CELL_BODY, profile: PROFILE },
    });
    expect(res.statusCode).toBe(201);
    const id = res.json().id;
    const get = async () =>
      (await h.app.inject({ method: "GET", url: `/api/v1/runs/${id}`, headers: auth("viewer") })).json();
    const started = performance.now();
    await waitFor(() => h.runs.get(id).state === "completed", "the run to complete", 60_000);
    const realS = (performance.now() - started) / 1000;
    const run = await get();

    expect(run.history.map((x: { state: string }) => x.state)).toEqual(["queued", "running", "completed"]);
    expect(run.state).toBe("completed");
    expect(run.step.index).toBe(4);
    expect(run.test_time_s).toBeGreaterThan(3600);
    // Half charged: about half the capacity comes out, and a full charge goes back in.
    expect(run.discharge_ah).toBeGreaterThan(0.9);
    expect(run.discharge_ah).toBeLessThan(1.6);
    expect(run.charge_ah).toBeGreaterThan(run.discharge_ah + 0.5);
    expect(run.charge_ah).toBeLessThan(3.2);
    expect(run.test_time_s / realS).toBeGreaterThan(100);

    await waitFor(() => h.runs.get(id).progress !== null, "the estimate", 60_000);
    const finished = await get();
    expect(finished.progress.fraction).toBe(1);
    // The estimate is a dry run of the same profile on the same simulated cell.
    expect(finished.progress.estimated_total_s).toBeGreaterThan(finished.test_time_s * 0.95);
    expect(finished.progress.estimated_total_s).toBeLessThan(finished.test_time_s * 1.05);

    const list = await h.app.inject({
      method: "GET",
      url: "/api/v1/runs?state=completed",
      headers: auth("viewer"),
    });
    expect(list.json().runs.map((r: { id: string }) => r.id)).toEqual([id]);
  });
});
