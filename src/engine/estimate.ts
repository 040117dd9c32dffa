import type { CellSpec } from "../../drivers/capabilities.js";
import type { Profile } from "../profile/ast.js";
import { type DryRunEstimate, dryRun } from "./dry-run.js";

export interface EstimateOptions {
  /** Most simulated samples per pass: bounds the CPU time of each pass. */
  samples: number;
  /** Cell state of charge at the start (0..1). */
  initialSoc: number;
  /** Chamber air at the start, °C (default 25). */
  initialChamberC?: number;
  /** Sample period of the exact pass, s (default 1). */
  finePeriodS?: number;
  /** Sample period of the sizing pass, s (default 30). */
  coarsePeriodS?: number;
}

export interface ProfileEstimate {
  estimate: DryRunEstimate;
  /** False when even the coarse pass was cut at its sample budget (the profile is longer). */
  complete: boolean;
}

/**
 * Estimates a profile in two dry runs of bounded cost. A coarse pass (30 s samples: every step ends
 * up to one sample late, about 0.3 % on a cycle-life profile of 1 h steps) sizes the profile; when it
 * fits the budget at the fine period, a fine pass places short steps and pulses exactly. A profile
 * too long for the fine pass keeps the coarse estimate, so cycle-life tests of months still get one.
 */
export async function estimateProfile(
  profile: Profile,
  cell: CellSpec,
  options: EstimateOptions,
): Promise<ProfileEstimate> {
  const fine = options.finePeriodS ?? 1;
  const coarse = options.coarsePeriodS ?? 30;
  const pass = async (periodS: number) => {
    const maxDurationS = options.samples * periodS;
    const estimate = await dryRun(profile, cell, {
      initialSoc: options.initialSoc,
      ...(options.initialChamberC === undefined ? {} : { initialChamberC: options.initialChamberC }),
      periodS,
      maxDurationS,
    });
    // A dry run that outlives its budget is stopped by the simulation itself, at the budget.
    return { estimate, complete: !(estimate.state === "stopped" && estimate.durationS >= maxDurationS) };
  };
  const sized = await pass(coarse);
  if (!sized.complete || sized.estimate.durationS > options.samples * fine) return sized;
  const exact = await pass(fine);
  return exact.complete ? exact : sized;
}
