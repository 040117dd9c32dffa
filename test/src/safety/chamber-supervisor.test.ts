import { describe, expect, it } from "vitest";
import type { SimChamber } from "../../../drivers/sim/sim-chamber.js";
import { ChamberSupervisor } from "../../../src/safety/chamber-supervisor.js";
import { chamber, profile, rest } from "../../support/profile-builders.js";
import { NMC_18650, runToEnd } from "../../support/sim-bench.js";

const min = 60_000;

describe("ChamberSupervisor", () => {
  const owned = { owned: true, cellMaxC: 60 };

  it("gives a new set point time to settle, then allows the band only for the grace time", () => {
    const s = new ChamberSupervisor({ bandC: 5, graceMs: 5 * min, settleTimeoutMs: 60 * min });
    expect(s.check("tc1", { temperatureC: 25, setpointC: -20 }, 0, owned)).toBeUndefined();
    expect(s.check("tc1", { temperatureC: 0, setpointC: -20 }, 30 * min, owned)).toBeUndefined();
    expect(s.check("tc1", { temperatureC: -16, setpointC: -20 }, 40 * min, owned)).toBeUndefined(); // settled
    expect(s.check("tc1", { temperatureC: -10, setpointC: -20 }, 41 * min, owned)).toBeUndefined(); // outside: grace starts
    expect(s.check("tc1", { temperatureC: -10, setpointC: -20 }, 46 * min, owned)).toBeUndefined();
    expect(s.check("tc1", { temperatureC: -10, setpointC: -20 }, 46 * min + 1, owned)).toBe(
      "chamber tc1 at -10.0 °C has been outside -20 ± 5 °C for more than 5 min",
    );
  });

  it("forgives a short excursion and faults a chamber that never settles", () => {
    const s = new ChamberSupervisor({ bandC: 2, graceMs: 5 * min, settleTimeoutMs: 60 * min });
    s.check("tc1", { temperatureC: 25, setpointC: 25 }, 0, owned);
    expect(s.check("tc1", { temperatureC: 28, setpointC: 25 }, 1 * min, owned)).toBeUndefined();
    expect(s.check("tc1", { temperatureC: 25.5, setpointC: 25 }, 4 * min, owned)).toBeUndefined();
    expect(s.check("tc1", { temperatureC: 28, setpointC: 25 }, 8 * min, owned)).toBeUndefined(); // a fresh excursion
    s.check("tc1", { temperatureC: 25, setpointC: 80 }, 10 * min, owned);
    expect(
      s.check("tc1", { temperatureC: 50, setpointC: 80 }, 70 * min + 1, { owned: true, cellMaxC: 110 }),
    ).toBe("chamber tc1 did not reach 80 ± 2 °C within 60 min (at 50.0 °C)");
  });

  it("enforces the band only for an owned set point, but a cell's maximum always", () => {
    const s = new ChamberSupervisor();
    expect(
      s.check("tc1", { temperatureC: 40, setpointC: 22 }, 10 * 3_600_000, { owned: false, cellMaxC: 60 }),
    ).toBeUndefined();
    expect(s.check("tc1", { temperatureC: 61.2, setpointC: 22 }, 0, { owned: false, cellMaxC: 60 })).toBe(
      "chamber tc1 at 61.2 °C is above the 60 °C maximum of a cell inside it",
    );
  });
});

describe("chamber supervision on the simulated bench", () => {
  it("faults the run when its chamber stops regulating and drifts out of the band", async () => {
    const p = profile([chamber(60, 600, 1), rest(4 * 3600)]);
    const { engine } = await runToEnd(p, {
      chamberC: 25,
      listener: (bench) => ({
        step: (change) => {
          if (change.path === "steps[1]")
            (bench.chambers.get("tc1")!.chamber as SimChamber).faults.set({ unregulated: true });
        },
      }),
    });
    expect(engine.currentState).toBe("faulted");
    expect(engine.status().reason).toMatch(
      /^chamber tc1 at 5\d\.\d °C has been outside 60 ± 5 °C for more than 5 min$/,
    );
  });

  it("never sets the chamber above the rating of the cell inside: the set point is refused, the run faults", async () => {
    const cell = { ...NMC_18650, temperatureC: [-20, 45] as [number, number] };
    const { engine, bench } = await runToEnd(profile([chamber(60, 600, 1), rest(60)]), {
      cell,
      chamberC: 25,
    });
    expect(engine.currentState).toBe("faulted");
    expect(engine.status().reason).toBe(
      "steps[0]: chamber tc1 may not go to 60 °C: cell NMC-0042 (li-ion-nmc) on channel ch1 is inside and allows -20..45 °C; take the cell out (DELETE /api/v1/channels/ch1/cell) or choose a set point within its range",
    );
    // What the chamber itself was told (its first reading may come after the run has ended).
    expect((bench.chambers.get("tc1")!.chamber as SimChamber).model.setpointC).toBeLessThanOrEqual(45);
  });
});
