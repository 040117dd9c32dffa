import { describe, expect, it } from "vitest";
import type { CyclerSetpoint } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { SupplyCell, type SupplyDrive } from "../../../drivers/emulators/ea-itech-supply-physics.js";
import { SimCycler } from "../../../drivers/sim/sim-cycler.js";

const CELL = { chemistry: "li-ion-nmc" as const, capacityAh: 3 };

/**
 * The emulators' cell must behave like the simulated cycler's: the same cell driven by an instrument's
 * settings (voltage priority with quadrant limits) and by the equivalent CyclerSetpoint.
 */
async function compare(
  drive: SupplyDrive,
  setpoint: CyclerSetpoint,
  initialSoc: number,
  checkpointsS: number[],
) {
  const clock = new VirtualClock();
  const supply = new SupplyCell(clock, { ...CELL, initialSoc });
  const sim = new SimCycler(
    { id: "sim", driver: "sim/cycler", channels: ["ch1"], options: { cell: CELL, initialSoc } },
    { clock, chamberOfChannel: () => undefined },
  );
  await sim.connect();
  const channel = sim.channels[0]!;
  supply.setDrive(drive);
  await channel.apply(setpoint);
  const rows: Array<{ t: number; emulated: number[]; simulated: number[] }> = [];
  for (const t of checkpointsS) {
    await clock.advanceTo(t * 1000);
    const m = supply.measure();
    const r = await channel.read();
    rows.push({ t, emulated: [m.voltageV, m.currentA], simulated: [r.voltageV, r.currentA] });
  }
  return { rows, supply, sim: channel.cell };
}

describe("emulated supply physics", () => {
  it("a sink-quadrant CC discharge with U at the cut-off matches sim/cycler's clamped CC", async () => {
    const { rows, supply, sim } = await compare(
      {
        kind: "voltage-priority",
        voltageV: 2.5,
        sourceCurrentA: 0,
        sourcePowerW: 1500,
        sinkCurrentA: 6,
        sinkPowerW: 1500,
      },
      { mode: "cc", currentA: -6, minV: 2.5, maxV: 4.2 },
      0.5,
      [1, 60, 600, 1200, 2400],
    );
    for (const row of rows) {
      expect(row.emulated[0]).toBeCloseTo(row.simulated[0]!, 3);
      expect(row.emulated[1]).toBeCloseTo(row.simulated[1]!, 3);
    }
    expect(rows[1]!.emulated[1]).toBeCloseTo(-6, 6);
    expect(rows[4]!.emulated[0]).toBeCloseTo(2.5, 6);
    expect(supply.cell.soc).toBeCloseTo(sim.soc, 4);
  });

  it("voltage priority with both quadrants matches sim/cycler's CV with a current limit", async () => {
    const { rows } = await compare(
      {
        kind: "voltage-priority",
        voltageV: 4.0,
        sourceCurrentA: 2,
        sourcePowerW: 1500,
        sinkCurrentA: 2,
        sinkPowerW: 1500,
      },
      { mode: "cv", voltageV: 4.0, chargeLimitA: 2, dischargeLimitA: 2 },
      0.3,
      [1, 300, 1800, 3600, 7200],
    );
    for (const row of rows) {
      expect(row.emulated[0]).toBeCloseTo(row.simulated[0]!, 3);
      expect(row.emulated[1]).toBeCloseTo(row.simulated[1]!, 3);
    }
    expect(rows[0]!.emulated[1]).toBeCloseTo(2, 6);
    expect(rows[4]!.emulated[1]).toBeLessThan(0.5);
  });

  it("a source power limit below current × voltage regulates power", async () => {
    const clock = new VirtualClock();
    const supply = new SupplyCell(clock, { ...CELL, initialSoc: 0.5 });
    supply.setDrive({
      kind: "voltage-priority",
      voltageV: 4.2,
      sourceCurrentA: 10,
      sourcePowerW: 5,
      sinkCurrentA: 0,
      sinkPowerW: 1500,
    });
    await clock.advanceTo(60_000);
    const m = supply.measure();
    expect(m.regulation).toBe("CP");
    expect(m.powerW).toBeCloseTo(5, 2);
  });

  it("output off is open circuit: no current, the voltage relaxes", async () => {
    const clock = new VirtualClock();
    const supply = new SupplyCell(clock, { ...CELL, initialSoc: 0.5 });
    supply.setDrive({ kind: "current-priority", currentA: -3, lowV: 2.5, highV: 4.2 });
    await clock.advanceTo(300_000);
    const loaded = supply.measure().voltageV;
    supply.setDrive({ kind: "off" });
    await clock.advanceTo(900_000);
    const m = supply.measure();
    expect(m.currentA).toBe(0);
    expect(m.regulation).toBe("off");
    expect(m.voltageV).toBeGreaterThan(loaded);
  });
});
