/**
 * Where a dry run placed each step, in bounded memory: every step while there are few, then every
 * 2nd, 4th, ... as the profile turns out longer (a cycle-life test executes millions of steps). A
 * run's progress reads the start of its current step from it, interpolated between kept points.
 */

/** Most points a timeline keeps (each is two numbers). */
export const TIMELINE_POINTS = 4096;

export interface StepTimeline {
  /** Step indexes of the kept points, increasing; the last is one past the last step (the end). */
  stepIndex: number[];
  /** Start of each kept step, s from the start of the profile (the end's is the total duration). */
  startS: number[];
}

export class StepTimelineBuilder {
  private stride = 1;
  private readonly stepIndex: number[] = [];
  private readonly startS: number[] = [];

  add(stepIndex: number, startS: number): void {
    // The first step is always kept: steps before the first kept point could not be placed.
    if (this.stepIndex.length > 0 && stepIndex % this.stride !== 0) return;
    this.stepIndex.push(stepIndex);
    this.startS.push(startS);
    if (this.stepIndex.length < TIMELINE_POINTS) return;
    this.stride *= 2;
    let kept = 0;
    for (let i = 0; i < this.stepIndex.length; i++) {
      if (i > 0 && (this.stepIndex[i] as number) % this.stride !== 0) continue;
      this.stepIndex[kept] = this.stepIndex[i] as number;
      this.startS[kept] = this.startS[i] as number;
      kept++;
    }
    this.stepIndex.length = kept;
    this.startS.length = kept;
  }

  /** The timeline, closed by the end of the profile after `lastStepIndex` at `durationS`. */
  finish(lastStepIndex: number, durationS: number): StepTimeline {
    return {
      stepIndex: [...this.stepIndex, lastStepIndex + 1],
      startS: [...this.startS, durationS],
    };
  }
}

/**
 * Expected seconds into the profile for a run `stepElapsedS` into step `stepIndex`: exact where the
 * timeline kept every step, else the step's start and length interpolated between kept points.
 */
export function expectedElapsedS(
  timeline: StepTimeline,
  stepIndex: number,
  stepElapsedS: number,
): number | undefined {
  const { stepIndex: idx, startS } = timeline;
  if (idx.length === 0) return undefined;
  // The last kept point at or before stepIndex.
  let lo = 0;
  let hi = idx.length - 1;
  if ((idx[0] as number) > stepIndex) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((idx[mid] as number) <= stepIndex) lo = mid;
    else hi = mid - 1;
  }
  const i0 = idx[lo] as number;
  const t0 = startS[lo] as number;
  if (lo === idx.length - 1) return undefined; // past the end: the run took another path
  const i1 = idx[lo + 1] as number;
  const t1 = startS[lo + 1] as number;
  const perStep = (t1 - t0) / (i1 - i0);
  return t0 + (stepIndex - i0) * perStep + Math.min(stepElapsedS, perStep);
}
