/**
 * Issue 11, findings 2-5 and 8: profiles that cost the daemon CPU or memory. Each attack goes to the
 * API of a real-clock bench with a run charging on ch1, and the sampling loop must not notice.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AttackBench,
  expectUnharmed,
  openAttackBench,
  underAttack,
} from "../../../support/attack-bench.js";
import { auth, NMC_CELL_BODY } from "../../../support/http-bench.js";
import { simBenchConfig } from "../../../support/sim-bench.js";

const folder = mkdtempSync(join(tmpdir(), "cellbench-attack-"));
// A 10-point current trace of 10 s: "Run U for 1100 h" loops it 396,000 times.
writeFileSync(
  join(folder, "u.csv"),
  `time_s,current_A\n${Array.from({ length: 10 }, (_v, i) => `${i},${(i % 3) + 0.5}`).join("\n")}\n`,
);
execFileSync("mkfifo", [join(folder, "fifo.csv")]);

let h: AttackBench;
beforeAll(async () => {
  // Two channels: the victim run charges on ch1, attacks that start runs use ch2.
  const config = simBenchConfig();
  const cycler = config.devices[0];
  if (!cycler) throw new Error("no cycler");
  h = await openAttackBench({
    estimate: true,
    http: { driveCycleDir: folder },
    config: {
      devices: [{ ...cycler, channels: ["ch1", "ch2"] }, ...config.devices.slice(1)],
      chambers: [{ id: "tc1", device: "tc1", channels: ["ch1", "ch2"] }],
    },
  });
});
afterAll(async () => {
  await h?.close();
  rmSync(folder, { recursive: true, force: true });
});

/** Posts `body` as JSON; a string given as `json` is sent as it is (serialized before a measured window). */
const post = (path: string, body: unknown, role: "viewer" | "operator" = "viewer", json?: string) =>
  fetch(`${h.url}${path}`, {
    method: "POST",
    headers: { ...auth(role), "content-type": "application/json" },
    body: json ?? JSON.stringify(body),
  });

const check = (profile: unknown) => post("/api/v1/profiles/check", { profile, cell: NMC_CELL_BODY });

describe("profiles that cost CPU or memory", () => {
  it("a drive cycle looped for 1100 h is refused by its point budget, on the worker (finding 2)", async () => {
    let status = 0;
    let body: { code?: string; detail?: string } = {};
    const report = await underAttack(h, async () => {
      const res = await check(
        `name: bomb\ndrive_cycles: { U: u.csv }\nsteps:\n${"  - Run U for 1100 h\n".repeat(60)}`,
      );
      status = res.status;
      body = (await res.json()) as typeof body;
    });
    expect(status).toBe(422);
    expect(body.detail).toMatch(/points/);
    expectUnharmed(report);
  });

  it("a goto to an unknown label of 10,000 characters is answered at once (finding 3)", async () => {
    let status = 0;
    let detail = "";
    const report = await underAttack(h, async () => {
      const res = await check({
        name: "labels",
        steps: [
          { step: "Rest for 1 s", label: "a".repeat(10_000) },
          { step: "Rest for 1 s", limits: [{ when: "< 2.8 V", then: `goto ${"b".repeat(10_000)}` }] },
        ],
      });
      status = res.status;
      detail = ((await res.json()) as { detail: string }).detail;
    });
    expect(status).toBe(422);
    expect(detail).toMatch(/label/);
    expectUnharmed(report);
  });

  it("a profile body at the 256 KiB limit is parsed off the loop, and its error stays small (finding 4)", async () => {
    // 250 KB of step strings: more steps than a profile may hold.
    const steps = Array.from({ length: 9000 }, (_v, i) => `Charge at ${(i % 9) + 1} A for ${i + 1} s`);
    // Serialized before the measured window: the attacker's own work shares this process's loop.
    const json = JSON.stringify({ profile: { name: "big", steps }, cell: NMC_CELL_BODY });
    expect(json.length).toBeGreaterThan(230_000);
    let status = 0;
    let length = 0;
    const report = await underAttack(h, async () => {
      const res = await post("/api/v1/profiles/check", undefined, "viewer", json);
      status = res.status;
      length = (await res.text()).length;
    });
    expect(status).toBe(422);
    expect(length).toBeLessThan(100_000);
    expectUnharmed(report);
    // One byte over the limit is refused before anything parses it.
    const over = await check("x".repeat(256 * 1024));
    expect(over.status).toBe(413);
  });

  it("runs of a million steps get their estimates off the loop (finding 5)", async () => {
    const profile = { name: "life", steps: [{ repeat: 1_100_000, steps: ["Rest for 1 s"] }] };
    const ids: string[] = [];
    const report = await underAttack(h, async () => {
      for (let i = 0; i < 3; i++) {
        const res = await post("/api/v1/runs", { channel: "ch2", cell: NMC_CELL_BODY, profile }, "operator");
        expect(res.status).toBe(201);
        const id = ((await res.json()) as { id: string }).id;
        ids.push(id);
        const stop = await post(`/api/v1/runs/${id}/stop`, {}, "operator");
        expect(stop.status).toBe(200);
      }
    });
    expectUnharmed(report);
    expect(ids).toHaveLength(3);
  });

  it("a FIFO in the drive-cycle folder is refused at once, not read (finding 8)", async () => {
    let status = 0;
    let detail = "";
    const report = await underAttack(h, async () => {
      const res = await check("name: fifo\nsteps:\n  - Discharge following fifo.csv\n");
      status = res.status;
      detail = ((await res.json()) as { detail: string }).detail;
    });
    expect(status).toBe(422);
    expect(detail).toMatch(/not a regular file/);
    expectUnharmed(report);
  });
});
