import { afterEach, describe, expect, it } from "vitest";
import type { BdfExportOptions } from "../../../../src/storage/bdf-export.js";
import type { ExportPlan } from "../../../../src/storage/export-source.js";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench } from "../../../support/http-bench.js";

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

/** A storage whose export reports `plan` and yields a header and a row. */
function storageWith(plan: ExportPlan | undefined, calls: Partial<BdfExportOptions>[] = []) {
  return {
    async *exportRunCsv(options: Partial<BdfExportOptions>) {
      calls.push(options);
      if (plan) options.onPlan?.(plan);
      yield "Test Time / s,Data Source\n";
      yield "0,raw\n";
    },
  };
}

async function exportOf(storage: ReturnType<typeof storageWith>, influx = true) {
  h = await openHttpBench({
    storage,
    ...(influx ? { config: { influx: { url: "http://127.0.0.1:1", database: "lab" } } } : {}),
  });
  const started = await h.app.inject({
    method: "POST",
    url: "/api/v1/runs",
    headers: auth("operator"),
    payload: { channel: "ch1", cell: NMC_CELL_BODY, profile: { name: "rest", steps: ["Rest for 1 second"] } },
  });
  const id = started.json().id as string;
  const res = await h.app.inject({ method: "GET", url: `/api/v1/runs/${id}/data`, headers: auth("viewer") });
  return { id, res };
}

describe("GET /api/v1/runs/:id/data says which data it holds", () => {
  it("asks the export to fall back on the long-term policy of the configured schema", async () => {
    const calls: Partial<BdfExportOptions>[] = [];
    const { res } = await exportOf(storageWith({ source: "raw" }, calls));
    expect(res.statusCode).toBe(200);
    expect(calls[0]?.downsampled).toEqual({ retentionPolicy: "long_term", every: "1m" });
    expect(res.headers["x-cellbench-data-source"]).toBe("raw");
    expect(res.headers["x-cellbench-data-note"]).toBe("raw samples");
  });

  it.each<[ExportPlan, string, RegExp]>([
    [{ source: "downsampled", every: "1m" }, "downsampled", /^downsampled 1m buckets only/],
    [
      { source: "mixed", every: "1m", rawFromMs: Date.UTC(2026, 0, 5) },
      "mixed",
      /^downsampled 1m buckets before 2026-01-05T00:00:00.000Z \(raw samples expired\), raw samples from then on$/,
    ],
  ])("marks an export of %j in its headers and file name", async (plan, source, note) => {
    const { id, res } = await exportOf(storageWith(plan));
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-cellbench-data-source"]).toBe(source);
    expect(res.headers["x-cellbench-data-note"]).toMatch(note);
    expect(res.headers["content-disposition"]).toBe(`attachment; filename="${id}.${source}.csv"`);
  });

  it("reads raw only without an influx configuration (a storage of its own in tests)", async () => {
    const calls: Partial<BdfExportOptions>[] = [];
    const { res } = await exportOf(storageWith(undefined, calls), false);
    expect(calls[0]?.downsampled).toBeUndefined();
    expect(res.headers["x-cellbench-data-source"]).toBe("raw");
  });
});
