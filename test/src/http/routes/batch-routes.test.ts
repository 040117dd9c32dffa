/**
 * Batches over HTTP on a simulated bench of six channels (ch1..ch5 in chamber tc1, ch6 in tc2), on
 * a virtual clock the test moves: four channels follow one chamber sweep together.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { SimCyclerChannel } from "../../../../drivers/sim/sim-cycler.js";
import type { BenchConfig } from "../../../../src/config/load-config.js";
import type { RunEvent } from "../../../../src/run/run-manager.js";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench } from "../../../support/http-bench.js";

const SWEEP = `name: batch-sweep
steps:
  - sweep: { chamber: [30, 38] }
    soak: 2 minutes
    tolerance: 1 °C
    steps:
      - Discharge at 1C until 3.7 V or for 30 minutes
      - Rest for 1 minute
`;
const SETPOINTS = [30, 38];
const SOAK_MS = 120_000;

const ASSLB_CELL_BODY = {
  id: "ASSLB-0001",
  chemistry: "asslb-sulfide",
  capacity_ah: 1,
  voltage: [2.5, 4.25],
  current: [-3, 1],
  temperature: [-20, 105],
};

const cycler = (n: number, soc: number) => ({
  id: `cycler${n}`,
  driver: "sim/cycler",
  channels: [`ch${n}`],
  options: { initialSoc: soc },
});

const BENCH: Partial<BenchConfig> = {
  devices: [
    cycler(1, 0.45),
    cycler(2, 0.6),
    cycler(3, 0.75),
    cycler(4, 0.9),
    cycler(5, 0.5),
    cycler(6, 0.5),
    { id: "tc1", driver: "sim/chamber", options: { initialC: 25 } },
    { id: "tc2", driver: "sim/chamber", options: { initialC: 25 } },
  ],
  chambers: [
    { id: "tc1", device: "tc1", channels: ["ch1", "ch2", "ch3", "ch4", "ch5"] },
    { id: "tc2", device: "tc2", channels: ["ch6"] },
  ],
};

const members = (channels: string[], cell: Record<string, unknown> = NMC_CELL_BODY) =>
  channels.map((channel, i) => ({ channel, cell: { ...cell, id: `${String(cell.id)}-${i + 1}` } }));

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

async function open(): Promise<HttpBench> {
  h = await openHttpBench({ auto: false, config: BENCH });
  return h;
}

async function post(url: string, payload?: unknown) {
  return h.app.inject({
    method: "POST",
    url,
    headers: auth("operator"),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

const getBatch = async (id: string) =>
  (await h.app.inject({ method: "GET", url: `/api/v1/batches/${id}`, headers: auth("viewer") })).json();

/** Moves simulated time a second at a time until `done` holds; fails after `maxS` simulated seconds. */
async function advanceUntil(done: () => boolean, what: string, maxS = 4 * 3600): Promise<void> {
  const limit = h.clock.now() + maxS * 1000;
  while (!done()) {
    if (h.clock.now() >= limit) throw new Error(`${what}: not within ${maxS} simulated seconds`);
    await h.clock.advanceBy(1000);
  }
}

interface Logged {
  seq: number;
  kind: "arrive" | "body" | "set";
  run: string;
  iteration: number;
  tWallMs: number;
  chamberC: number;
  setpointC?: number;
}

/** Logs, in order, each run's arrival at each sweep set point, its entry into the sweep's body, and every set point sent to tc1. */
function record(): Logged[] {
  const log: Logged[] = [];
  const bodies = new Map<string, number>();
  const chamber = h.bench.chambers.get("tc1");
  if (!chamber) throw new Error("no tc1");
  const airC = () => chamber.latest?.temperatureC ?? Number.NaN;
  h.runs.subscribe((event: RunEvent) => {
    if (event.type !== "step") return;
    const { path, tWallMs } = event.change;
    const sweep = /^steps\[0\]\.sweep\[(\d)\]$/.exec(path);
    if (sweep)
      log.push({
        seq: log.length,
        kind: "arrive",
        run: event.run,
        iteration: Number(sweep[1]),
        tWallMs,
        chamberC: airC(),
      });
    if (path === "steps[0].steps[0]") {
      const iteration = bodies.get(event.run) ?? 0;
      bodies.set(event.run, iteration + 1);
      log.push({ seq: log.length, kind: "body", run: event.run, iteration, tWallMs, chamberC: airC() });
    }
  });
  const device = chamber.chamber;
  const setSetpoint = device.setSetpoint.bind(device);
  device.setSetpoint = (celsius: number) => {
    log.push({
      seq: log.length,
      kind: "set",
      run: "",
      iteration: SETPOINTS.indexOf(celsius),
      tWallMs: h.clock.wallNow(),
      chamberC: airC(),
      setpointC: celsius,
    });
    return setSetpoint(celsius);
  };
  return log;
}

describe("a batch of four channels through a chamber sweep", () => {
  it("starts each sweep iteration on every channel only after all four arrived and the chamber soaked", async () => {
    await open();
    const log = record();
    const created = await post("/api/v1/batches", {
      channels: members(["ch1", "ch2", "ch3", "ch4"]),
      profile: SWEEP,
    });
    expect(created.statusCode).toBe(201);
    const batch = created.json();
    expect(batch).toMatchObject({ chamber: "tc1", profile: "batch-sweep", state: "running" });
    expect(created.headers.location).toBe(`/api/v1/batches/${batch.id}`);
    const runIds: string[] = batch.runs.map((r: { run: { id: string } }) => r.run.id);
    expect(runIds).toHaveLength(4);
    expect(h.bench.chambers.get("tc1")?.owner).toBe(batch.id);
    const done = (id: string) =>
      ["completed", "stopped", "aborted", "faulted"].includes(h.runs.get(id).state);

    // While the first arrivals at the second set point wait for the others, the chamber stays at 30 °C.
    const arrivedAt1 = () => log.filter((e) => e.kind === "arrive" && e.iteration === 1).length;
    await advanceUntil(() => arrivedAt1() > 0, "a first run at the second set point");
    expect(arrivedAt1()).toBeLessThan(4);
    const waiting = await getBatch(batch.id);
    const waits = waiting.runs.filter((r: { waits_at: unknown }) => r.waits_at !== null);
    expect(waits.length).toBe(arrivedAt1());
    for (const r of waits) expect(r.waits_at).toEqual({ step: "steps[0].sweep[1]@1", phase: "set" });
    expect(h.bench.chambers.get("tc1")?.latest?.setpointC).toBe(30);

    await advanceUntil(() => runIds.every(done), "every run to end");
    console.log(`batch sweep: ${(h.clock.now() / 60_000).toFixed(0)} simulated minutes`);
    for (const id of runIds) expect(h.runs.get(id).state).toBe("completed");
    const ended = await getBatch(batch.id);
    expect(ended.state).toBe("ended");
    expect(ended.runs.every((r: { waits_at: unknown }) => r.waits_at === null)).toBe(true);
    expect(h.bench.chambers.get("tc1")?.owner).toBeUndefined();

    for (const [i, setpointC] of SETPOINTS.entries()) {
      const arrivals = log.filter((e) => e.kind === "arrive" && e.iteration === i);
      const sets = log.filter((e) => e.kind === "set" && e.setpointC === setpointC);
      const bodies = log.filter((e) => e.kind === "body" && e.iteration === i);
      expect(new Set(arrivals.map((e) => e.run))).toEqual(new Set(runIds));
      expect(new Set(bodies.map((e) => e.run))).toEqual(new Set(runIds));
      expect(sets.length).toBeGreaterThan(0);
      const lastArrival = Math.max(...arrivals.map((e) => e.seq));
      // The set point is sent only once all four have arrived...
      expect(Math.min(...sets.map((e) => e.seq))).toBeGreaterThan(lastArrival);
      const setAtMs = Math.min(...sets.map((e) => e.tWallMs));
      for (const body of bodies) {
        // ...and every channel goes on only after the chamber got there and soaked.
        expect(body.seq).toBeGreaterThan(Math.max(...sets.map((e) => e.seq)));
        expect(body.tWallMs - setAtMs).toBeGreaterThanOrEqual(SOAK_MS);
        expect(Math.abs(body.chamberC - setpointC)).toBeLessThanOrEqual(1);
      }
      // The soak is shared: the channels go on within one sampling period of each other.
      const starts = bodies.map((e) => e.tWallMs);
      expect(Math.max(...starts) - Math.min(...starts)).toBeLessThanOrEqual(1000);
    }
    // The channels did arrive at different times (else the barrier was never tested).
    const second = log.filter((e) => e.kind === "arrive" && e.iteration === 1).map((e) => e.tWallMs);
    expect(Math.max(...second) - Math.min(...second), JSON.stringify(second)).toBeGreaterThan(60_000);
  });

  it("holds the others at the end of the soak while one run is paused, and lets all go on together", async () => {
    await open();
    const log = record();
    const created = await post("/api/v1/batches", {
      channels: members(["ch1", "ch2", "ch3", "ch4"]),
      profile: SWEEP,
    });
    const batch = created.json();
    const runIds: string[] = batch.runs.map((r: { run: { id: string } }) => r.run.id);
    const late = runIds[3] as string;
    await advanceUntil(() => log.some((e) => e.kind === "set" && e.setpointC === 30), "the first set point");
    expect((await post(`/api/v1/runs/${late}/pause`)).statusCode).toBe(200);
    // Far longer than the chamber needs to settle and soak: the other three soak and wait.
    const t0 = h.clock.now();
    await advanceUntil(() => h.clock.now() >= t0 + 3600_000, "an hour");
    expect(log.filter((e) => e.kind === "body")).toEqual([]);
    const waiting = await getBatch(batch.id);
    expect(waiting.runs.map((r: { waits_at: unknown }) => r.waits_at)).toEqual([
      ...runIds.slice(0, 3).map(() => ({ step: "steps[0].sweep[0]@0", phase: "soaked" })),
      null,
    ]);
    const resumedAtMs = h.clock.wallNow();
    expect((await post(`/api/v1/runs/${late}/resume`)).statusCode).toBe(200);
    await advanceUntil(() => log.filter((e) => e.kind === "body").length === 4, "the four channels to go on");
    const starts = log.filter((e) => e.kind === "body").map((e) => e.tWallMs);
    expect(Math.max(...starts) - Math.min(...starts)).toBeLessThanOrEqual(1000);
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(resumedAtMs);
    const stopped = (await post(`/api/v1/batches/${batch.id}/stop`)).json();
    expect(stopped.state).toBe("ended");
    expect(stopped.runs.map((r: { run: { state: string } }) => r.run.state)).toEqual([
      "stopped",
      "stopped",
      "stopped",
      "stopped",
    ]);
    expect(h.bench.chambers.get("tc1")?.owner).toBeUndefined();
  });

  it("latches the chamber and holds the others when one channel's cell runs away", async () => {
    await open();
    const created = await post("/api/v1/batches", {
      channels: members(["ch1", "ch2", "ch3", "ch4"]),
      profile: SWEEP,
    });
    expect(created.statusCode).toBe(201);
    const batch = created.json();
    const runIds: string[] = batch.runs.map((r: { run: { id: string } }) => r.run.id);
    const [r1, r2, r3, r4] = runIds as [string, string, string, string];
    await advanceUntil(
      () => runIds.every((id) => h.runs.get(id).status?.stepPath === "steps[0].steps[0]"),
      "the first body step",
    );
    const ch2 = h.bench.channel("ch2").channel as SimCyclerChannel;
    ch2.faults.set({ runaway: { triggerC: 20, powerW: 50, doublingC: 5 } });
    await advanceUntil(() => h.runs.get(r2).state === "faulted", "the runaway cell's fault", 3600);

    const chamber = h.bench.chambers.get("tc1");
    expect(chamber?.latched).toMatch(
      /^temperature \d+(\.\d+)? °C outside -20\.\.60 °C \(cell NMC-0042-2 on ch2\)$/,
    );
    for (const id of [r1, r3, r4]) {
      expect(h.runs.get(id).state).toBe("paused");
      expect(h.runs.get(id).reason).toMatch(
        /^held: chamber tc1 in safe state after a fault of cell NMC-0042-2 on ch2: /,
      );
    }
    const held = await getBatch(batch.id);
    expect(held.state).toBe("held");
    expect(held.held).toBe(chamber?.latched);

    const resume = await post(`/api/v1/batches/${batch.id}/resume`);
    expect(resume.statusCode).toBe(409);
    expect(resume.json().code).toBe("CHAMBER_LATCHED");
    // Once the cause is dealt with: the latch cleared, the batch resumes without the faulted run.
    expect((await post("/api/v1/chambers/tc1/clear")).statusCode).toBe(200);
    const resumed = await post(`/api/v1/batches/${batch.id}/resume`);
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json().runs.map((r: { run: { state: string } }) => r.run.state)).toEqual([
      "running",
      "faulted",
      "running",
      "running",
    ]);
    const ended = (id: string) =>
      ["completed", "stopped", "aborted", "faulted"].includes(h.runs.get(id).state);
    await advanceUntil(() => runIds.every(ended), "the batch's runs to end");
    expect(runIds.map((id) => h.runs.get(id).state)).toEqual([
      "completed",
      "faulted",
      "completed",
      "completed",
    ]);
    expect((await getBatch(batch.id)).state).toBe("ended");
    expect(chamber?.owner).toBeUndefined();
  });
});

describe("batch validation", () => {
  it("refuses channels of different chambers, a channel given twice, a busy channel, and nothing starts", async () => {
    await open();
    const split = await post("/api/v1/batches", { channels: members(["ch1", "ch6"]), profile: SWEEP });
    expect(split.statusCode).toBe(422);
    expect(split.json()).toMatchObject({
      code: "BATCH_CHANNELS_NOT_IN_ONE_CHAMBER",
      detail:
        "a batch shares one chamber, but ch1 in chamber tc1, ch6 in chamber tc2; choose channels of one chamber (GET /api/v1/bench)",
    });
    const twice = await post("/api/v1/batches", {
      channels: [...members(["ch1"]), ...members(["ch1"])],
      profile: SWEEP,
    });
    expect(twice.statusCode).toBe(422);
    expect(twice.json().code).toBe("BATCH_CHANNELS_INVALID");
    const one = await post("/api/v1/batches", { channels: members(["ch1"]), profile: SWEEP });
    expect(one.statusCode).toBe(400);

    const busy = await post("/api/v1/runs", {
      channel: "ch3",
      cell: NMC_CELL_BODY,
      profile: "name: long\nsteps:\n  - Rest for 2 hours\n",
    });
    expect(busy.statusCode).toBe(201);
    const refused = await post("/api/v1/batches", {
      channels: members(["ch1", "ch2", "ch3", "ch4"]),
      profile: SWEEP,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe("CHANNEL_BUSY");
    expect(refused.json().detail).toContain(`channel ch3 holds run ${busy.json().id}`);
    for (const ch of ["ch1", "ch2", "ch4"]) expect(h.bench.channel(ch).run).toBeUndefined();
    expect(h.bench.chambers.get("tc1")?.owner).toBeUndefined();
    const listed = (
      await h.app.inject({ method: "GET", url: "/api/v1/batches", headers: auth("viewer") })
    ).json();
    expect(listed.batches).toEqual([]);
  });

  it("refuses a cell that forbids a set point, its own or one resting in the chamber", async () => {
    await open();
    const hot = SWEEP.replace("[30, 38]", "[30, 70]");
    const nmc = await post("/api/v1/batches", { channels: members(["ch1", "ch2"]), profile: hot });
    expect(nmc.statusCode).toBe(422);
    expect(nmc.json().code).toBe("PROFILE_INVALID");
    expect(nmc.json().detail).toMatch(/70 °C is outside cell NMC-0042-1's temperature range/);

    // An NMC cell rests on ch5 after its run: the chamber may not go to 80 °C while it is inside.
    const resting = await post("/api/v1/runs", {
      channel: "ch5",
      cell: NMC_CELL_BODY,
      profile: "name: short\nsteps:\n  - Rest for 5 s\n",
    });
    expect(resting.statusCode).toBe(201);
    await advanceUntil(() => h.runs.get(resting.json().id).state === "completed", "the ch5 run");
    const asslb = await post("/api/v1/batches", {
      channels: members(["ch1", "ch2", "ch3", "ch4"], ASSLB_CELL_BODY),
      profile: SWEEP.replace("[30, 38]", "[30, 80]"),
    });
    expect(asslb.statusCode).toBe(409);
    expect(asslb.json().code).toBe("CHAMBER_SETPOINT_REFUSED");
    expect(asslb.json().detail).toMatch(
      /^chamber tc1 may not go to 80 °C: cell NMC-0042 \(li-ion-nmc\) on channel ch5 is inside/,
    );
    for (const ch of ["ch1", "ch2", "ch3", "ch4"]) expect(h.bench.channel(ch).run).toBeUndefined();
  });

  it("keeps the chamber to the batch: another batch or a run with chamber steps is refused", async () => {
    await open();
    const first = await post("/api/v1/batches", { channels: members(["ch1", "ch2"]), profile: SWEEP });
    expect(first.statusCode).toBe(201);
    const id = first.json().id;
    const second = await post("/api/v1/batches", { channels: members(["ch3", "ch4"]), profile: SWEEP });
    expect(second.statusCode).toBe(409);
    expect(second.json().code).toBe("CHAMBER_OWNED");
    expect(second.json().detail).toMatch(new RegExp(`^chamber tc1 is driven by batch ${id};`));
    const run = await post("/api/v1/runs", { channel: "ch5", cell: NMC_CELL_BODY, profile: SWEEP });
    expect(run.statusCode).toBe(409);
    expect(run.json().code).toBe("CHAMBER_OWNED");
    // A run without chamber steps may share the chamber.
    const plain = await post("/api/v1/runs", {
      channel: "ch5",
      cell: NMC_CELL_BODY,
      profile: "name: plain\nsteps:\n  - Rest for 1 minute\n",
    });
    expect(plain.statusCode).toBe(201);
    const unknown = await h.app.inject({
      method: "GET",
      url: "/api/v1/batches/B20260101-9999",
      headers: auth("viewer"),
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe("UNKNOWN_BATCH");
  });
});
