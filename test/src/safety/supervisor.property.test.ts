/**
 * Property-based tests of the safety supervisor on a simulated bench (issue 10 "Must show"):
 * random cells (NMC and sulfide ASSLB, limits narrowed), random profiles (rests, CC by C-rate, CV
 * holds, chamber steps, repeats), 2-4 channels on one or two cyclers sharing one chamber, runs
 * started at random moments, and faults injected at random moments: self-heating runaway, hot and
 * cold spots, polarisation (over/under-voltage), over-current behind the run's back, stuck readings,
 * a lost thermocouple, a lost link, a hung device tick, a chamber that stops answering or
 * regulating, and wall-clock jumps. Everything runs on a virtual clock; the harness and the oracles
 * are in test/support/safety-fixtures.ts.
 *
 * fast-check prints the seed and path of a failure; replay it with
 *   CELLBENCH_FC_SEED=<seed> CELLBENCH_FC_PATH=<path> npx vitest run test/src/safety/supervisor.property.test.ts
 * (CELLBENCH_FC_RUNS=<n> sets the number of runs of every property; CELLBENCH_FC_KNOWN_GAPS=1 also
 * checks the known gaps listed below).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CellSpec } from "../../../drivers/capabilities.js";
import type { Direction, SafetyLimits } from "../../../src/profile/ast.js";
import {
  attachIntoForbiddenChamberProblems,
  type ChannelPlan,
  chamberSetpointProblems,
  type FaultSpec,
  falseTripProblems,
  latchedOutputProblems,
  type Outcome,
  reactionProblems,
  runScenario,
  type Scenario,
  type StepSpec,
  violatingSamples,
  watchdogProblems,
} from "../../support/safety-fixtures.js";
import { ASSLB_POUCH, NMC_18650 } from "../../support/sim-bench.js";

const env = process.env;
const SEED = env.CELLBENCH_FC_SEED === undefined ? undefined : Number(env.CELLBENCH_FC_SEED);
const PATH = env.CELLBENCH_FC_PATH;
const RUNS = env.CELLBENCH_FC_RUNS === undefined ? undefined : Number(env.CELLBENCH_FC_RUNS);
/** Replaying a seed or changing the number of runs: the coverage expectations do not apply. */
const NOMINAL = SEED === undefined && PATH === undefined && RUNS === undefined;

/**
 * Runs a property a bounded number of times. The time limit is a safety net for a very slow host
 * (the runs done by then count; a failure found is still reported, with its seed), and it bounds
 * shrinking, which replays scenarios: on a failure the seed and path printed let you resume it.
 */
async function check<T>(
  arb: fc.Arbitrary<T>,
  numRuns: number,
  predicate: (t: T) => Promise<void>,
): Promise<void> {
  await fc.assert(fc.asyncProperty(arb, predicate), {
    numRuns: RUNS ?? numRuns,
    ...(SEED === undefined ? {} : { seed: SEED }),
    ...(PATH === undefined ? {} : { path: PATH }),
    plugins: [fc.interruptAfterTimeLimit(INTERRUPT_AFTER_MS)],
  });
}

/** Well above a property's nominal few seconds (tripled on a loaded host); reached when shrinking. */
const INTERRUPT_AFTER_MS = 30_000;
const TEST_TIMEOUT_MS = 90_000;

/** Within the chemistry envelopes (the ASSLB_POUCH fixture is wider than its chemistry's). */
const BASES: Record<"nmc" | "asslb", CellSpec> = {
  nmc: NMC_18650,
  asslb: { ...ASSLB_POUCH, temperatureC: [-20, 105] },
};

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * A cell narrowed from a base: voltage window up to 0.2 V in from each side, currents 50-100 % of
 * the base's (calm: at most 1C), temperature range up to 10 °C in from each side.
 */
function cellArb(kind: fc.Arbitrary<"nmc" | "asslb">, calm: boolean): fc.Arbitrary<CellSpec> {
  return fc
    .record({
      kind,
      vLo: fc.integer({ min: 0, max: 20 }),
      vHi: fc.integer({ min: 0, max: 20 }),
      iDis: fc.integer({ min: 50, max: 100 }),
      iChg: fc.integer({ min: 50, max: 100 }),
      tLo: fc.integer({ min: 0, max: 10 }),
      tHi: fc.integer({ min: 0, max: 10 }),
    })
    .map(({ kind, vLo, vHi, iDis, iChg, tLo, tHi }) => {
      const base = BASES[kind];
      const maxDis = calm ? Math.min(-base.currentA[0], base.capacityAh) : -base.currentA[0];
      const maxChg = calm ? Math.min(base.currentA[1], base.capacityAh) : base.currentA[1];
      return {
        ...base,
        voltageV: [round(base.voltageV[0] + vLo / 100), round(base.voltageV[1] - vHi / 100)],
        currentA: [-round((maxDis * iDis) / 100), round((maxChg * iChg) / 100)],
        temperatureC: [base.temperatureC[0] + tLo, base.temperatureC[1] - tHi],
      } satisfies CellSpec;
    });
}

interface StepOptions {
  /** Largest C-rate as a fraction of the cell's current limit of the step's direction. */
  maxFraction: number;
  /** Chamber set points: [min, max] °C, or none. */
  chamberC: [number, number] | undefined;
  maxStepS: number;
}

function leafStepArb(cell: CellSpec, o: StepOptions): fc.Arbitrary<StepSpec> {
  const [vMin, vMax] = cell.voltageV;
  const volts = fc
    .integer({ min: 5, max: 95 })
    .map((p) => round(vMin + 0.05 + ((vMax - vMin - 0.1) * p) / 100));
  const seconds = fc.integer({ min: 10, max: o.maxStepS });
  const leaves: fc.Arbitrary<StepSpec>[] = [
    seconds.map((s) => ({ kind: "rest", s })),
    fc
      .record({
        dir: fc.constantFrom<Direction>("charge", "discharge"),
        frac: fc.integer({ min: 5, max: Math.round(o.maxFraction * 100) }),
        s: seconds,
        untilV: fc.option(volts, { nil: undefined }),
      })
      .map(({ dir, frac, s, untilV }) => {
        const limit = dir === "charge" ? cell.currentA[1] : -cell.currentA[0];
        // Rounded down to 0.01C so that it never exceeds the limit it is a fraction of.
        const c = Math.max(0.01, Math.floor(((limit * frac) / 100 / cell.capacityAh) * 100) / 100);
        return untilV === undefined ? { kind: "cc", dir, c, s } : { kind: "cc", dir, c, s, untilV };
      }),
    fc.record({ v: volts, s: seconds }).map(({ v, s }) => ({ kind: "hold", v, s })),
  ];
  const range = o.chamberC;
  if (range)
    leaves.push(
      fc
        .record({
          c: fc.integer({ min: range[0], max: range[1] }),
          soakS: fc.integer({ min: 0, max: 300 }),
          tolC: fc.integer({ min: 1, max: 3 }),
        })
        .map(({ c, soakS, tolC }) => ({ kind: "chamber", c, soakS, tolC })),
    );
  return fc.oneof(...leaves);
}

function stepsArb(cell: CellSpec, o: StepOptions): fc.Arbitrary<StepSpec[]> {
  const leaf = leafStepArb(cell, o);
  const item = fc.oneof(
    { weight: 5, arbitrary: leaf },
    {
      weight: 1,
      arbitrary: fc
        .record({ n: fc.integer({ min: 1, max: 3 }), steps: fc.array(leaf, { minLength: 1, maxLength: 3 }) })
        .map(({ n, steps }): StepSpec => ({ kind: "repeat", n, steps })),
    },
  );
  return fc.array(item, { minLength: 1, maxLength: 4 });
}

/** Sampling periods; 250 ms (four times the ticks of 1 s) less often, to bound the runtime. */
const PERIODS = fc.oneof(
  { weight: 1, arbitrary: fc.constant(250) },
  { weight: 3, arbitrary: fc.constantFrom(500, 1000, 2000) },
);

/** A profile's `safety`, narrowing the cell's limits further (the tightest tier wins). */
function safetyArb(cell: CellSpec): fc.Arbitrary<SafetyLimits> {
  return fc
    .record({
      mv: fc.integer({ min: 0, max: 100 }),
      pct: fc.integer({ min: 70, max: 100 }),
      dT: fc.integer({ min: 0, max: 15 }),
    })
    .map(({ mv, pct, dT }) => ({
      voltageV: [round(cell.voltageV[0] + mv / 1000, 3), round(cell.voltageV[1] - mv / 1000, 3)],
      currentA: [round((cell.currentA[0] * pct) / 100), round((cell.currentA[1] * pct) / 100)],
      temperatureC: [cell.temperatureC[0] + dT, cell.temperatureC[1] - dT],
    }));
}

/**
 * Any cell, maybe with profile `safety` limits, any profile within the tighter of both (as
 * validation lets through), started within 5 min.
 */
function wildChannelArb(kind: fc.Arbitrary<"nmc" | "asslb">): fc.Arbitrary<ChannelPlan> {
  return cellArb(kind, false)
    .chain((cell) =>
      fc.record({ cell: fc.constant(cell), safety: fc.option(safetyArb(cell), { nil: undefined }) }),
    )
    .chain(({ cell, safety }) => {
      const limits: CellSpec = safety
        ? {
            ...cell,
            voltageV: safety.voltageV ?? cell.voltageV,
            currentA: safety.currentA ?? cell.currentA,
            temperatureC: safety.temperatureC ?? cell.temperatureC,
          }
        : cell;
      return fc.record({
        cell: fc.constant(cell),
        steps: stepsArb(limits, {
          maxFraction: 1,
          chamberC: [limits.temperatureC[0], limits.temperatureC[1]],
          maxStepS: 300,
        }),
        startS: fc.integer({ min: 0, max: 300 }),
        ...(safety ? { safety: fc.constant(safety) } : {}),
      });
    });
}

/** Gives the cells distinct ids (the channel they sit on). */
function named(channels: ChannelPlan[]): ChannelPlan[] {
  return channels.map((c, i) => ({ ...c, cell: { ...c.cell, id: `${c.cell.id}-ch${i + 1}` } }));
}

/** Only one run may own the chamber at a time: chamber steps on the first channel that has any. */
function oneChamberOwner(channels: ChannelPlan[]): ChannelPlan[] {
  let owner = false;
  const strip = (steps: StepSpec[]): StepSpec[] =>
    steps.flatMap((s): StepSpec[] => {
      if (s.kind === "chamber") return [];
      if (s.kind !== "repeat") return [s];
      const inner = strip(s.steps);
      return inner.length > 0 ? [{ ...s, steps: inner }] : [];
    });
  const hasChamber = (steps: StepSpec[]): boolean =>
    steps.some((s) => s.kind === "chamber" || (s.kind === "repeat" && hasChamber(s.steps)));
  return channels.map((c) => {
    if (!hasChamber(c.steps)) return c;
    if (!owner) {
      owner = true;
      return c;
    }
    const steps = strip(c.steps);
    return { ...c, steps: steps.length > 0 ? steps : [{ kind: "rest", s: 60 }] };
  });
}

type FaultKind = FaultSpec["kind"];

/** A fault of one of `kinds` at a random moment in the first `withinS` seconds. */
function faultArb(channels: ChannelPlan[], kinds: FaultKind[], withinS: number): fc.Arbitrary<FaultSpec> {
  const ch = fc.integer({ min: 0, max: channels.length - 1 });
  const atS = fc.integer({ min: 0, max: withinS });
  const dir = fc.constantFrom<Direction>("charge", "discharge");
  const build: Record<FaultKind, fc.Arbitrary<FaultSpec>> = {
    runaway: fc
      .record({
        ch,
        atS,
        triggerC: fc.integer({ min: 20, max: 60 }),
        powerW: fc.integer({ min: 2, max: 50 }).map((x) => x / 10),
        doublingC: fc.integer({ min: 2, max: 10 }),
      })
      .map((r) => ({ kind: "runaway", ...r })),
    temperature: fc
      .record({ ch, atS, edge: fc.integer({ min: 0, max: 5 }), offset: fc.integer({ min: -15, max: 15 }) })
      .map(({ ch, atS, edge, offset }) => {
        const cell = (channels[ch] as ChannelPlan).cell;
        // Around an edge of the cell's range or of a charge window (0 and 45 °C for the liquid cells).
        const edges = [cell.temperatureC[0], cell.temperatureC[1], 0, 45, 60, 105];
        return { kind: "temperature", ch, atS, celsius: (edges[edge] as number) + offset };
      }),
    polarisation: fc
      .record({ ch, atS, mv: fc.integer({ min: 100, max: 1500 }), sign: fc.constantFrom(-1, 1) })
      .map(({ ch, atS, mv, sign }) => ({ kind: "polarisation", ch, atS, volts: (sign * mv) / 1000 })),
    "over-current": fc
      .record({ ch, atS, factor: fc.integer({ min: 110, max: 200 }).map((x) => x / 100), dir })
      .map((r) => ({ kind: "over-current", ...r })),
    stuck: fc.record({ ch, atS }).map((r) => ({ kind: "stuck", ...r })),
    "sensor-lost": fc.record({ ch, atS }).map((r) => ({ kind: "sensor-lost", ...r })),
    "link-lost": fc.record({ ch, atS }).map((r) => ({ kind: "link-lost", ...r })),
    hang: fc.record({ device: fc.integer({ min: 0, max: 1 }), atS }).map((r) => ({ kind: "hang", ...r })),
    "hang-all": fc
      .record({ device: fc.integer({ min: 0, max: 1 }), atS })
      .map((r) => ({ kind: "hang-all", ...r })),
    "chamber-link-lost": atS.map((atS) => ({ kind: "chamber-link-lost", atS })),
    "chamber-hang": atS.map((atS) => ({ kind: "chamber-hang", atS })),
    "chamber-unregulated": atS.map((atS) => ({ kind: "chamber-unregulated", atS })),
  };
  return fc.constantFrom(...kinds).chain((k) => build[k]);
}

const wallJumpArb = fc.option(
  fc.record({
    atS: fc.integer({ min: 0, max: 1200 }),
    stepMs: fc.oneof(
      fc.integer({ min: -10 * 86_400_000, max: 10 * 86_400_000 }),
      fc.integer({ min: -5_000, max: 5_000 }),
    ),
  }),
  { nil: undefined },
);

/**
 * A bench of 2-4 channels with wild profiles and 1-3 faults of the given kinds, run until every run
 * has ended (plus a minute) or 10 min after the last fault or run start (or 25 min in all).
 */
function faultyScenarioArb(kinds: FaultKind[]): fc.Arbitrary<Scenario> {
  const kind = fc.constantFrom<"nmc" | "asslb">("nmc", "asslb");
  return fc
    .array(wildChannelArb(kind), { minLength: 2, maxLength: 4 })
    .map((chs) => named(oneChamberOwner(chs)))
    .chain((channels) =>
      fc.record({
        periodMs: PERIODS,
        chamberC: fc.integer({ min: 15, max: 35 }),
        initialSoc: fc.integer({ min: 20, max: 80 }).map((x) => x / 100),
        firstDeviceChannels: fc.integer({ min: 1, max: channels.length }),
        channels: fc.constant(channels),
        faults: fc.array(faultArb(channels, kinds, 900), { minLength: 1, maxLength: 3 }),
        wallJump: wallJumpArb,
        maxS: fc.constant(1500),
        graceS: fc.constant(60),
        afterLastActionS: fc.constant(600),
      }),
    )
    .map(({ wallJump, ...rest }): Scenario => (wallJump ? { ...rest, wallJump } : rest));
}

/** Fails the property with every problem found and the scenario's log around the first one. */
function assertNone(problems: string[], o: Outcome, what: string): void {
  if (problems.length === 0) return;
  const states = o.log
    .filter((e) => e.kind === "state" || e.kind === "inject" || e.kind === "latch" || e.kind === "refused")
    .map((e) => `  #${e.seq} t=${e.t} ${JSON.stringify(e)}`);
  throw new Error(
    `${what}: ${problems.length} problem(s)\n${problems.slice(0, 10).join("\n")}\nevents:\n${states.slice(0, 60).join("\n")}`,
  );
}

/**
 * How much the generated scenarios exercised, so that no property passes by checking nothing
 * (checked after the nominal runs only; each expectation held in every one of dozens of runs).
 */
const coverage = {
  violations: new Map<string, number>(),
  faultedRuns: 0,
  latches: 0,
  chamberSetpoints: 0,
  refusedSetpoints: 0,
  watchdogFaults: 0,
  completedRuns: 0,
  wallJumps: 0,
};

function count(o: Outcome): void {
  for (const e of o.log) {
    if (e.kind === "state" && e.state === "faulted") coverage.faultedRuns++;
    if (e.kind === "state" && e.state === "faulted" && /watchdog|stopped answering/.test(e.reason))
      coverage.watchdogFaults++;
    if (e.kind === "state" && e.state === "faulted" && /may not go to/.test(e.reason))
      coverage.refusedSetpoints++;
    if (e.kind === "state" && e.state === "completed") coverage.completedRuns++;
    if (e.kind === "latch") coverage.latches++;
    if (e.kind === "chamber-set") coverage.chamberSetpoints++;
  }
  if (o.scenario.wallJump) coverage.wallJumps++;
}

const VIOLATIONS: FaultKind[] = [
  "runaway",
  "temperature",
  "polarisation",
  "over-current",
  "sensor-lost",
  "stuck",
];
const SILENCES: FaultKind[] = ["link-lost", "hang", "hang-all", "chamber-link-lost", "chamber-hang"];
const ALL: FaultKind[] = [...VIOLATIONS, ...SILENCES, "chamber-unregulated"];

/**
 * Checked always (gaps this suite found, now fixed): current on a channel no run drives is commanded
 * off (IDLE_CURRENT); a cell is refused from a chamber whose owner holds or will set a temperature
 * outside its range (ATTACH_INTO_SETPOINT).
 * Known gap, left out unless CELLBENCH_FC_KNOWN_GAPS=1: HUNG_SAFE_STATE — when every call of an
 * instrument hangs, the run's fault now latches, but only after RunEngine waits SAFE_STATE_WAIT_MS of
 * real time for the safe-state call, which on this auto-advancing virtual clock is long after the
 * watchdog time plus one period (the channel itself is commanded safe in time, which is checked).
 */
const KNOWN_GAPS = env.CELLBENCH_FC_KNOWN_GAPS === "1";
const IDLE_CURRENT = true;
const ATTACH_INTO_SETPOINT = true;
const HUNG_SAFE_STATE = KNOWN_GAPS;

/** Chamber set points of the calm profiles: inside every generated cell's charge and discharge windows. */
const CALM_CHAMBER_C: [number, number] = [10, 30];

/** A calm channel: at most 1C limits, at most 0.5 of them per step, chamber set points well inside. */
const calmChannelArb: fc.Arbitrary<ChannelPlan> = cellArb(fc.constantFrom("nmc", "asslb"), true).chain(
  (cell) =>
    fc.record({
      cell: fc.constant(cell),
      steps: stepsArb(cell, { maxFraction: 0.5, chamberC: CALM_CHAMBER_C, maxStepS: 600 }),
      startS: fc.integer({ min: 0, max: 300 }),
    }),
);

/** 2-4 calm channels, no fault, maybe sensor noise and a wall-clock jump. */
const calmScenarioArb: fc.Arbitrary<Scenario> = fc
  .array(calmChannelArb, { minLength: 2, maxLength: 4 })
  .map((chs) => named(oneChamberOwner(chs)))
  .chain((channels) =>
    fc.record({
      periodMs: PERIODS,
      chamberC: fc.integer({ min: 15, max: 30 }),
      initialSoc: fc.integer({ min: 20, max: 80 }).map((x) => x / 100),
      firstDeviceChannels: fc.integer({ min: 1, max: channels.length }),
      channels: fc.constant(channels),
      faults: fc.constant<FaultSpec[]>([]),
      wallJump: wallJumpArb,
      noise: fc.option(
        fc.record({
          voltageV: fc.integer({ min: 0, max: 5 }).map((x) => x / 1000),
          currentA: fc.integer({ min: 0, max: 3 }).map((x) => x / 1000),
          temperatureC: fc.integer({ min: 0, max: 20 }).map((x) => x / 100),
          seed: fc.integer({ min: 1, max: 1000 }),
        }),
        { nil: undefined },
      ),
      maxS: fc.constant(3 * 3600),
      graceS: fc.constant(10),
    }),
  )
  .map(
    ({ wallJump, noise, ...rest }): Scenario => ({
      ...rest,
      ...(wallJump ? { wallJump } : {}),
      ...(noise ? { noise } : {}),
    }),
  );

describe("safety supervisor properties (fast-check, virtual clock)", () => {
  it(
    "every violating sample reaches safe state within one sampling period (channel, and chamber for thermal faults)",
    async () => {
      await check(faultyScenarioArb(VIOLATIONS), 16, async (sc) => {
        const o = await runScenario(sc);
        count(o);
        for (const v of violatingSamples(o))
          coverage.violations.set(v.kind, (coverage.violations.get(v.kind) ?? 0) + 1);
        assertNone(
          reactionProblems(o, { idleCurrent: IDLE_CURRENT }),
          o,
          "violation not brought to safe state within one period",
        );
      });
      if (NOMINAL) {
        expect([...coverage.violations.keys()].length).toBeGreaterThan(2);
        expect(coverage.latches).toBeGreaterThan(0);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a cell whose idle output already drives current, then loses its temperature: its chamber goes to safe state",
    async () => {
      // Found by the property above (seed 1885248495, shrunk): ch1's run had ended, its output stuck
      // at -2.1 A (reported once as an idle-current violation), and its sensor was then lost while
      // ch2's profile drove the chamber. The no-temperature violation was taken for the same episode.
      const sc = JSON.parse(`{"periodMs":250,"chamberC":15,"initialSoc":0.52,"firstDeviceChannels":1,
        "channels":[
          {"cell":{"id":"NMC-0042-ch1","chemistry":"li-ion-nmc","capacityAh":3,"voltageV":[2.57,4.06],
            "currentA":[-3.06,3.36],"temperatureC":[-13,56]},
           "steps":[{"kind":"cc","dir":"charge","c":0.58,"s":187,"untilV":3.89},
                    {"kind":"cc","dir":"discharge","c":0.7,"s":243,"untilV":3.55}],
           "startS":284,"safety":{"voltageV":[2.576,4.054],"currentA":[-2.72,2.99],"temperatureC":[-9,52]}},
          {"cell":{"id":"ASSLB-0007-ch2","chemistry":"asslb-sulfide","capacityAh":1,"voltageV":[2.68,4.15],
            "currentA":[-1,1.74],"temperatureC":[-20,98]},
           "steps":[{"kind":"chamber","c":47,"soakS":219,"tolC":1},{"kind":"cc","dir":"charge","c":0.16,"s":190,"untilV":3.1},
                    {"kind":"repeat","n":1,"steps":[{"kind":"chamber","c":52,"soakS":123,"tolC":3},
                                                    {"kind":"chamber","c":18,"soakS":86,"tolC":2}]},
                    {"kind":"chamber","c":13,"soakS":64,"tolC":1}],
           "startS":180,"safety":{"voltageV":[2.73,4.1],"currentA":[-0.93,1.62],"temperatureC":[-13,91]}}],
        "faults":[{"kind":"stuck","ch":0,"atS":476},{"kind":"sensor-lost","ch":0,"atS":713},{"kind":"stuck","ch":1,"atS":402}],
        "maxS":1500,"graceS":60,"afterLastActionS":600}`) as Scenario;
      const o = await runScenario(sc);
      expect(violatingSamples(o).some((v) => v.kind === "no-temperature" && v.channel === "ch1")).toBe(true);
      assertNone(
        reactionProblems(o, { idleCurrent: IDLE_CURRENT }),
        o,
        "violation not brought to safe state within one period",
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "no output while a fault is latched: nothing but rest reaches a faulted run's channel, nothing reaches a latched chamber or its channels",
    async () => {
      const before = coverage.faultedRuns;
      await check(faultyScenarioArb(ALL), 12, async (sc) => {
        const o = await runScenario(sc);
        count(o);
        assertNone(latchedOutputProblems(o), o, "output while a fault is latched");
      });
      if (NOMINAL) expect(coverage.faultedRuns).toBeGreaterThan(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "no chamber set point outside the temperature range of any cell inside the chamber",
    async () => {
      const before = coverage.chamberSetpoints;
      await check(faultyScenarioArb(["chamber-unregulated", "temperature", "runaway"]), 12, async (sc) => {
        const o = await runScenario(sc);
        count(o);
        assertNone(
          [
            ...chamberSetpointProblems(o),
            ...(ATTACH_INTO_SETPOINT ? attachIntoForbiddenChamberProblems(o) : []),
          ],
          o,
          "chamber set point outside a cell's range",
        );
      });
      if (NOMINAL) expect(coverage.chamberSetpoints).toBeGreaterThan(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a silent channel or chamber (lost link, hung device tick) faults its runs within the watchdog time plus one period (counted from a run's start if it began on a silent one), channel safe first",
    async () => {
      const before = coverage.watchdogFaults;
      await check(faultyScenarioArb(SILENCES), 12, async (sc) => {
        const o = await runScenario(sc);
        count(o);
        assertNone(watchdogProblems(o, { hungSafeState: HUNG_SAFE_STATE }), o, "watchdog");
      });
      if (NOMINAL) expect(coverage.watchdogFaults).toBeGreaterThan(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "no false trip: runs well inside their limits (no fault, sensor noise, wall-clock jumps) all complete, never wait or fault",
    async () => {
      const before = coverage.completedRuns;
      await check(calmScenarioArb, 10, async (sc) => {
        const o = await runScenario(sc);
        count(o);
        assertNone(falseTripProblems(o), o, "false trip");
      });
      if (NOMINAL) {
        expect(coverage.completedRuns).toBeGreaterThan(before);
        expect(coverage.wallJumps).toBeGreaterThan(0);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
