/** Cells over HTTP: register, mount, run without restating the cell, history across runs, channels and restarts. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CellBench, openCellBench } from "../../support/cell-bench.js";
import { auth, NMC_CELL_BODY, waitFor } from "../../support/http-bench.js";

const CELL = {
  ...NMC_CELL_BODY,
  id: "NMC-0100",
  maker: "LG Chem",
  lot: "2024-07-A",
  format: "18650",
  mass_g: "46.5 g",
  operator: "J. Doe",
  project: "ageing-2026",
  notes: "received at 3.6 V",
};
/** Two cycles of 0.5 Ah each way (2C = 6 A for 5 minutes). */
const CYCLES = `name: two-cycles
steps:
  - repeat: 2
    steps:
      - Discharge at 2C for 5 minutes
      - Charge at 2C for 5 minutes
`;
const LONG = "name: long\nsteps:\n  - Rest for 1000 hours\n";

let dir: string;
let h: CellBench | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cellbench-cells-"));
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const open = async () => {
  h = await openCellBench(join(dir, "store.db"));
  return h;
};

function api(b: CellBench) {
  const call = (method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", url: string, payload?: unknown) =>
    b.app.inject({
      method,
      url,
      headers: auth(method === "GET" ? "viewer" : "operator"),
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  return {
    call,
    register: (cell: unknown = CELL) => call("POST", "/api/v1/cells", cell),
    mount: (cell: string, channel: string) => call("PUT", `/api/v1/channels/${channel}/cell`, { cell }),
    unmount: (channel: string) => call("DELETE", `/api/v1/channels/${channel}/cell`),
    show: async (id: string) => (await call("GET", `/api/v1/cells/${encodeURIComponent(id)}`)).json(),
    start: (channel: string, profile: string, cell?: unknown) =>
      call("POST", "/api/v1/runs", { channel, profile, ...(cell === undefined ? {} : { cell }) }),
    /** Starts a run and waits until it ends; returns its id. */
    async runToEnd(channel: string, profile: string, cell?: unknown): Promise<string> {
      const res = await this.start(channel, profile, cell);
      expect(res.statusCode, res.body).toBe(201);
      const id = res.json().id as string;
      await waitFor(() => b.runs.get(id).state === "completed", `run ${id} to complete`, 60_000);
      return id;
    },
  };
}

describe("cells over HTTP", () => {
  it("registers a cell, mounts it, runs it without restating it, and its history follows it to another channel", async () => {
    const b = await open();
    const a = api(b);
    const registered = await a.register();
    expect(registered.statusCode, registered.body).toBe(201);
    expect(registered.headers.location).toBe("/api/v1/cells/NMC-0100");
    expect(registered.json()).toMatchObject({
      id: "NMC-0100",
      capacity_ah: 3,
      current_a: [-6, 6],
      charge_temperature_c: [0, 45],
      maker: "LG Chem",
      lot: "2024-07-A",
      format: "18650",
      mass_g: 46.5,
      operator: "J. Doe",
      project: "ageing-2026",
      notes: "received at 3.6 V",
      mounted: null,
      history: { runs: [], cycle_count: 0, charge_ah: 0, last_discharge_ah: null, last_channel: null },
    });

    const mounted = await a.mount("NMC-0100", "ch1");
    expect(mounted.statusCode, mounted.body).toBe(200);
    expect(mounted.json().mounted.channel).toBe("ch1");

    const first = await a.runToEnd("ch1", CYCLES);
    expect(b.runs.get(first).cell).toBe("NMC-0100");
    const after1 = await a.show("NMC-0100");
    expect(after1.history.runs).toEqual([
      expect.objectContaining({ id: first, channel: "ch1", state: "completed", cycles: 2 }),
    ]);
    expect(after1.history.cycle_count).toBe(2);
    expect(after1.history.discharge_ah).toBeCloseTo(1.0, 2);
    expect(after1.history.charge_ah).toBeCloseTo(1.0, 2);
    expect(after1.history.first_discharge_ah).toBeCloseTo(0.5, 2);
    expect(after1.history.last_discharge_ah).toBeCloseTo(0.5, 2);
    expect(after1.history.capacity_retention).toBeCloseTo(1, 2);
    expect(after1.history.last_channel).toBe("ch1");
    expect(after1.inside).toEqual({ channel: "ch1", run: first });
    const channels = (await a.call("GET", "/api/v1/bench")).json().channels;
    expect(channels.map((c: Record<string, unknown>) => [c.id, c.cell, c.cell_inside])).toEqual([
      ["ch1", "NMC-0100", "NMC-0100"],
      ["ch2", null, null],
    ]);

    // Moving the cell: it is still on ch1 (mounted and inside the chamber) until taken out there.
    const moved = await a.mount("NMC-0100", "ch2");
    expect(moved.statusCode).toBe(409);
    expect(moved.json().code).toBe("CELL_MOUNTED_ELSEWHERE");
    expect(moved.json().detail).toMatch(/DELETE \/api\/v1\/channels\/ch1\/cell/);
    const out = await a.unmount("ch1");
    expect(out.statusCode).toBe(200);
    expect(out.json()).toEqual({ channel: "ch1", cell: "NMC-0100" });
    expect(b.bench.supervisor.cellOn("ch1")).toBeUndefined();
    expect((await a.mount("NMC-0100", "ch2")).statusCode).toBe(200);

    const second = await a.runToEnd("ch2", CYCLES);
    const after2 = await a.show("NMC-0100");
    expect(after2.history.runs.map((r: { id: string; channel: string }) => [r.id, r.channel])).toEqual([
      [first, "ch1"],
      [second, "ch2"],
    ]);
    expect(after2.history.cycle_count).toBe(4);
    expect(after2.history.discharge_ah).toBeCloseTo(2.0, 2);
    expect(after2.history.charge_ah).toBeCloseTo(2.0, 2);
    expect(after2.history.first_discharge_ah).toBeCloseTo(0.5, 2);
    expect(after2.history.last_channel).toBe("ch2");
    expect(after2.mounted.channel).toBe("ch2");

    const list = (await a.call("GET", "/api/v1/cells")).json();
    expect(list.cells).toEqual([
      expect.objectContaining({
        id: "NMC-0100",
        mounted_on: "ch2",
        runs: 2,
        cycle_count: 4,
        maker: "LG Chem",
      }),
    ]);
  });

  it("refuses to take out a cell while a run drives its channel, and keeps it mounted", async () => {
    const b = await open();
    const a = api(b);
    await a.register();
    await a.mount("NMC-0100", "ch1");
    const started = await a.start("ch1", LONG);
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id as string;
    await b.runs.control(id, "pause");
    const refused = await a.unmount("ch1");
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe("CHANNEL_BUSY");
    expect((await a.show("NMC-0100")).mounted.channel).toBe("ch1");
    await b.runs.control(id, "stop");
    await waitFor(() => b.runs.get(id).state === "stopped", "the run to stop");
    const history = (await a.show("NMC-0100")).history;
    expect(history.runs).toEqual([expect.objectContaining({ id, state: "stopped", cycles: 0 })]);
    expect((await a.unmount("ch1")).json()).toEqual({ channel: "ch1", cell: "NMC-0100" });
    expect((await a.show("NMC-0100")).mounted).toBeNull();
  });

  it("answers duplicate, unknown and mismatched cells with precise problems", async () => {
    const b = await open();
    const a = api(b);
    expect((await a.register()).statusCode).toBe(201);
    const dup = await a.register();
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe("CELL_EXISTS");

    const viewer = await b.app.inject({
      method: "POST",
      url: "/api/v1/cells",
      headers: auth("viewer"),
      payload: { ...CELL, id: "X-1" },
    });
    expect(viewer.statusCode).toBe(403);
    const invalid = await a.register({ ...CELL, id: "X-2", current: [1, 6], mass_g: "heavy" });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().code).toBe("CELL_INVALID");
    expect(invalid.json().issues.map((i: { path: string }) => i.path)).toEqual([
      "body.current",
      "body.mass_g",
    ]);
    const typed = await a.register({ ...CELL, id: "X-3", lot: 7 });
    expect(typed.statusCode).toBe(400);
    expect(typed.json().issues[0].path).toBe("body.lot");

    expect((await a.call("GET", "/api/v1/cells/NOPE")).json().code).toBe("CELL_UNKNOWN");
    expect((await a.mount("NOPE", "ch1")).json()).toMatchObject({ status: 404, code: "CELL_UNKNOWN" });
    expect((await a.mount("NMC-0100", "ch9")).json()).toMatchObject({ status: 404, code: "UNKNOWN_CHANNEL" });

    // No cell mounted and none sent.
    const none = await a.start("ch1", CYCLES);
    expect(none.statusCode).toBe(409);
    expect(none.json().code).toBe("NO_CELL_MOUNTED");
    expect(none.json().detail).toMatch(/PUT \/api\/v1\/channels\/ch1\/cell/);
    // A registered cell sent inline must be mounted there.
    const unmounted = await a.start("ch1", CYCLES, CELL);
    expect(unmounted.json().code).toBe("CELL_NOT_MOUNTED");

    expect((await a.mount("NMC-0100", "ch1")).statusCode).toBe(200);
    expect((await a.mount("NMC-0100", "ch1")).statusCode).toBe(200);
    const other = await a.start("ch1", CYCLES, { ...NMC_CELL_BODY, id: "NMC-0200" });
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe("CHANNEL_HAS_CELL");
    expect(other.json().detail).toBe(
      "channel ch1 has cell NMC-0100 mounted, but body.cell is NMC-0200; leave out cell to run NMC-0100, or unmount it (DELETE /api/v1/channels/ch1/cell (cellbench cell unmount ch1) once it is taken out) and mount NMC-0200",
    );
    const mismatch = await a.start("ch1", CYCLES, { ...CELL, current: [-5, 3] });
    expect(mismatch.statusCode).toBe(409);
    expect(mismatch.json().code).toBe("CELL_SPEC_MISMATCH");
    expect(mismatch.json().detail).toMatch(/differs from registered cell NMC-0100 in current;/);
    const elsewhere = await a.start("ch2", CYCLES, CELL);
    expect(elsewhere.json().code).toBe("CELL_MOUNTED_ELSEWHERE");
    // Queues and batches keep the same rules: no other cell's limits on a channel with a mounted cell.
    const queued = await a.call("POST", "/api/v1/channels/ch1/queue", {
      profile: CYCLES,
      cell: { ...NMC_CELL_BODY, id: "NMC-0200" },
    });
    expect(queued.statusCode, queued.body).toBe(409);
    expect(queued.json().code).toBe("CHANNEL_HAS_CELL");
    const batch = await a.call("POST", "/api/v1/batches", {
      profile: CYCLES,
      channels: [
        { channel: "ch1", cell: { ...NMC_CELL_BODY, id: "NMC-0200" } },
        { channel: "ch2", cell: { ...NMC_CELL_BODY, id: "LOOSE-2" } },
      ],
    });
    expect(batch.statusCode, batch.body).toBe(409);
    expect(batch.json().code).toBe("CHANNEL_HAS_CELL");
    // The same cell inline, limits as registered, runs (metadata may differ).
    const same = await a.start("ch1", CYCLES, { ...CELL, notes: "other notes" });
    expect(same.statusCode, same.body).toBe(201);
    await waitFor(() => b.runs.get(same.json().id).state === "completed", "the run");

    // Another cell on ch1: refused while NMC-0100 is mounted there.
    await a.register({ ...NMC_CELL_BODY, id: "NMC-0200" });
    const taken = await a.mount("NMC-0200", "ch1");
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe("CHANNEL_HAS_CELL");
    expect(runsOn(b, "ch1")).toBe(1);
  });

  it("refuses to mount a cell on a channel whose last inline cell is still inside, until it is taken out", async () => {
    const b = await open();
    const a = api(b);
    // An unregistered cell, inline, as before cells could be registered.
    const inline = await a.start("ch2", CYCLES, { ...NMC_CELL_BODY, id: "LOOSE-1" });
    expect(inline.statusCode, inline.body).toBe(201);
    await waitFor(() => b.runs.get(inline.json().id).state === "completed", "the inline run");
    await a.register();
    const refused = await a.mount("NMC-0100", "ch2");
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe("CHANNEL_HAS_CELL");
    expect(refused.json().detail).toMatch(/cell LOOSE-1 of run R\d{8}-\d{4} is still recorded inside/);
    expect((await a.unmount("ch2")).json()).toEqual({ channel: "ch2", cell: "LOOSE-1" });
    expect((await a.mount("NMC-0100", "ch2")).statusCode).toBe(200);
  });

  it("changes metadata at any time, limits only while the cell has no runs", async () => {
    const b = await open();
    const a = api(b);
    await a.register();
    const before = await a.call("PATCH", "/api/v1/cells/NMC-0100", { current: [-5, 3], notes: null });
    expect(before.statusCode, before.body).toBe(200);
    expect(before.json()).toMatchObject({ current_a: [-5, 3], notes: null, maker: "LG Chem" });
    const bad = await a.call("PATCH", "/api/v1/cells/NMC-0100", { current: [1, 3] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().issues[0].path).toBe("body.current");
    const id = await a.call("PATCH", "/api/v1/cells/NMC-0100", { id: "OTHER" });
    expect(id.statusCode).toBe(400);

    await a.mount("NMC-0100", "ch1");
    await a.runToEnd("ch1", "name: short\nsteps:\n  - Discharge at 1C for 1 minute\n");
    const meta = await a.call("PATCH", "/api/v1/cells/NMC-0100", { project: "p2", operator: "A. N. Other" });
    expect(meta.statusCode).toBe(200);
    expect(meta.json()).toMatchObject({ project: "p2", operator: "A. N. Other", current_a: [-5, 3] });
    const locked = await a.call("PATCH", "/api/v1/cells/NMC-0100", { current: [-6, 6], notes: "x" });
    expect(locked.statusCode).toBe(409);
    expect(locked.json().code).toBe("CELL_LIMITS_LOCKED");
    expect(locked.json().detail).toMatch(
      /^cell NMC-0100 has 1 run recorded under its present limits, so current cannot change/,
    );
    expect((await a.show("NMC-0100")).notes).toBeNull();
  });

  it("takes cell files as YAML text, and refuses malformed requests and too low roles", async () => {
    const b = await open();
    const a = api(b);
    const yaml = (payload: string) =>
      b.app.inject({
        method: "POST",
        url: "/api/v1/cells",
        headers: { ...auth("operator"), "content-type": "application/yaml" },
        payload,
      });
    const text = await yaml(
      "id: NMC-7\nchemistry: li-ion-nmc\ncapacity_ah: 3 Ah\ncurrent: [-6, 3]\nlot: 7\n",
    );
    expect(text.statusCode, text.body).toBe(201);
    expect(text.json()).toMatchObject({ id: "NMC-7", capacity_ah: 3, lot: "7" });
    const broken = await yaml("id: [unclosed\n");
    expect(broken.statusCode).toBe(422);
    expect(broken.json()).toMatchObject({ code: "CELL_INVALID", issues: [{ path: "body" }] });
    const noCurrent = await yaml("id: X\nchemistry: li-ion-nmc\ncapacity_ah: 3\n");
    expect(noCurrent.json().issues).toEqual([
      { path: "body.current", message: "missing; give [max discharge, max charge] in A, e.g. [-6, 3]" },
    ]);

    for (const [method, url, payload] of [
      ["PUT", "/api/v1/channels/ch1/cell", { cell: "NMC-7" }],
      ["PATCH", "/api/v1/cells/NMC-7", { notes: "x" }],
      ["DELETE", "/api/v1/channels/ch1/cell", undefined],
    ] as const) {
      const res = await b.app.inject({
        method,
        url,
        headers: auth("viewer"),
        ...(payload ? { payload } : {}),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    expect((await b.app.inject({ method: "GET", url: "/api/v1/cells" })).statusCode).toBe(401);
    const empty = await a.call("PUT", "/api/v1/channels/ch1/cell", {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().issues).toEqual([{ path: "body.cell", message: "missing; add it" }]);
    const extra = await a.call("PUT", "/api/v1/channels/ch1/cell", { cell: "NMC-7", force: true });
    expect(extra.json().issues[0].path).toBe("body.force");
    const nothing = await a.call("PATCH", "/api/v1/cells/NMC-7", {});
    expect(nothing.statusCode).toBe(400);
    expect((await a.call("GET", `/api/v1/cells/${"x".repeat(300)}`)).statusCode).toBe(414);
    expect((await a.call("GET", "/api/v1/cells")).json().cells.map((c: { id: string }) => c.id)).toEqual([
      "NMC-7",
    ]);
  });

  it("keeps the registry, the mounts and the histories across a restart", async () => {
    let b = await open();
    let a = api(b);
    await a.register();
    await a.mount("NMC-0100", "ch1");
    const first = await a.runToEnd("ch1", CYCLES);
    await b.close();

    b = await open();
    a = api(b);
    const reopened = await a.show("NMC-0100");
    expect(reopened).toMatchObject({
      maker: "LG Chem",
      mounted: { channel: "ch1" },
      inside: { channel: "ch1", run: first },
    });
    expect(reopened.history.cycle_count).toBe(2);
    expect(reopened.history.discharge_ah).toBeCloseTo(1.0, 2);
    // The mount survived: a run without cell uses it, and the history goes on.
    const second = await a.runToEnd("ch1", CYCLES);
    const after = await a.show("NMC-0100");
    expect(after.history.runs.map((r: { id: string }) => r.id)).toEqual([first, second]);
    expect(after.history.cycle_count).toBe(4);
    expect(after.history.discharge_ah).toBeCloseTo(2.0, 2);
    expect((await a.register()).json().code).toBe("CELL_EXISTS");
  });
});

function runsOn(b: CellBench, channel: string): number {
  return b.runs.list().filter((r) => r.channel === channel).length;
}
