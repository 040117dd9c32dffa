import { describe, expect, it } from "vitest";
import { parseCell } from "../../../src/cell/cell.js";
import { parseProfile } from "../../../src/profile/document.js";
import { runMetadata } from "../../../src/run/run-metadata.js";
import type { StoredRun } from "../../../src/run/run-store.js";

describe("a run's metadata (the BDF CSV's companion)", () => {
  it("carries the cell's limits and its registered identity: maker, lot, format, mass, operator, project, notes", () => {
    const cell = parseCell(
      {
        id: "NMC-0777",
        chemistry: "li-ion-nmc",
        capacity_ah: 3.0,
        current: [-6, 4],
        maker: "LG Chem",
        lot: "L-2026-11",
        format: "18650",
        mass_g: 47.5,
        operator: "A. Lab",
        project: "ageing-60C",
        notes: "from tray 3",
      },
      "test",
    );
    const run: StoredRun = {
      id: "R20261204-0003",
      channel: "ch2",
      cell,
      profile: parseProfile("name: p\nsteps: [Rest for 1 minute]\n", { sourceName: "t" }),
      profileId: null,
      state: "completed",
      reason: "",
      cleared: false,
      createdMs: Date.UTC(2026, 11, 4, 9),
      history: [{ state: "queued", tWallMs: Date.UTC(2026, 11, 4, 9), reason: "" }],
    };
    const m = runMetadata(run, "b1");
    expect(m.run).toMatchObject({
      id: "R20261204-0003",
      bench: "b1",
      channel: "ch2",
      profile: "p",
      state: "completed",
    });
    expect(m.cell).toMatchObject({
      id: "NMC-0777",
      chemistry: "li-ion-nmc",
      nominal_capacity_ah: 3,
      current_a: [-6, 4],
      maker: "LG Chem",
      lot: "L-2026-11",
      format: "18650",
      mass_g: 47.5,
      operator: "A. Lab",
      project: "ageing-60C",
      notes: "from tray 3",
    });
  });
});
