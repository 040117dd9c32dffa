/** Over HTTP: a resting cell that overheats latches its chamber, /health says so, an operator clears it and takes the cell out. */
import { afterEach, describe, expect, it } from "vitest";
import type { SimCyclerChannel } from "../../../drivers/sim/sim-cycler.js";
import type { HttpBench } from "../../support/http-bench.js";
import { auth, NMC_CELL_BODY, openHttpBench, waitFor } from "../../support/http-bench.js";

let h: HttpBench | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function startRun(bench: HttpBench, steps: string[]) {
  return bench.app.inject({
    method: "POST",
    url: "/api/v1/runs",
    headers: auth("operator"),
    payload: { channel: "ch1", cell: NMC_CELL_BODY, profile: { name: "p", steps } },
  });
}

describe("safety routes", () => {
  it("degrades /health while a chamber is latched; clearing lifts it; the cell can be taken out once idle", async () => {
    h = await openHttpBench({ auto: false, periodMs: 1000 });
    const bench = h;
    await bench.clock.advanceBy(1000);
    const created = await startRun(bench, ["Rest for 2 seconds"]);
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    // Taking the cell out while its run drives the channel is refused.
    const busy = await bench.app.inject({
      method: "DELETE",
      url: "/api/v1/channels/ch1/cell",
      headers: auth("operator"),
    });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().code).toBe("CHANNEL_BUSY");
    for (let i = 0; i < 5; i++) await bench.clock.advanceBy(1000);
    expect(bench.runs.get(id).state).toBe("completed");
    expect((await bench.app.inject({ method: "GET", url: "/health" })).json().status).toBe("ok");

    // The cell rests in the chamber after its run; it overheats.
    (bench.bench.channel("ch1").channel as SimCyclerChannel).cell.temperatureC = 90;
    await bench.clock.advanceBy(1000);
    await waitFor(() => bench.bench.chambers.get("tc1")?.latched !== undefined, "the chamber latch");
    const health = (await bench.app.inject({ method: "GET", url: "/health" })).json();
    expect(health.status).toBe("degraded");
    expect(health.problems).toContainEqual(
      expect.stringMatching(
        /^chamber tc1 in safe state after a safety fault: temperature \d+(\.\d+)? °C outside -20\.\.60 °C \(cell NMC-0042 on ch1\)$/,
      ),
    );
    // No run starts in a latched chamber.
    const refused = await startRun(bench, ["Rest for 2 seconds"]);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe("CHAMBER_LATCHED");

    (bench.bench.channel("ch1").channel as SimCyclerChannel).cell.temperatureC = 25;
    const viewer = await bench.app.inject({
      method: "POST",
      url: "/api/v1/chambers/tc1/clear",
      headers: auth("viewer"),
    });
    expect(viewer.statusCode).toBe(403);
    const cleared = await bench.app.inject({
      method: "POST",
      url: "/api/v1/chambers/tc1/clear",
      headers: auth("operator"),
    });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().was).toMatch(/cell NMC-0042 on ch1/);
    const unknown = await bench.app.inject({
      method: "POST",
      url: "/api/v1/chambers/tc9/clear",
      headers: auth("operator"),
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe("UNKNOWN_CHAMBER");

    const removed = await bench.app.inject({
      method: "DELETE",
      url: "/api/v1/channels/ch1/cell",
      headers: auth("operator"),
    });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ channel: "ch1", cell: "NMC-0042" });
    expect(bench.bench.supervisor.cellOn("ch1")).toBeUndefined();
    await bench.clock.advanceBy(1000);
    expect((await bench.app.inject({ method: "GET", url: "/health" })).json().status).toBe("ok");
  });

  it("degrades /health while a run's fault is latched, until an operator clears it", async () => {
    h = await openHttpBench({ auto: false, periodMs: 1000 });
    const bench = h;
    await bench.clock.advanceBy(1000);
    const faulted = (await startRun(bench, ["Rest for 1 hour"])).json().id as string;
    await bench.runs.emergencyStop("test");
    const health = (await bench.app.inject({ method: "GET", url: "/health" })).json();
    expect(health.status).toBe("degraded");
    expect(health.problems).toContain(`run ${faulted} on ch1 faulted (latched until cleared): test`);
    await bench.app.inject({
      method: "POST",
      url: `/api/v1/runs/${faulted}/clear`,
      headers: auth("operator"),
    });
    expect((await bench.app.inject({ method: "GET", url: "/health" })).json().problems).not.toContainEqual(
      expect.stringMatching(/latched until cleared/),
    );
  });
});
