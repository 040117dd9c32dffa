import type { ChamberBarrier } from "../engine/run-engine.js";

/** Where a run of a batch waits for the others: a chamber step (path@loop iterations) and its phase. */
export interface BarrierWait {
  step: string;
  phase: "set" | "soaked";
}

/**
 * The meetings of a batch's runs at its chamber steps. A meeting is passed once every run still
 * taking part has arrived; runs that ended (`takesPart` false) no longer count, so a run that
 * completed early holds nobody back. A run that arrives at a meeting already passed goes on.
 */
export class BatchBarrier implements ChamberBarrier {
  private readonly arrived = new Map<string, Set<string>>();
  private readonly passed: Set<string>;
  private readonly waits = new Map<string, BarrierWait>();

  constructor(
    private readonly runs: readonly string[],
    private readonly takesPart: (run: string) => boolean,
    passed: Iterable<string> = [],
    private readonly onPassed: (meeting: string) => void = () => undefined,
  ) {
    this.passed = new Set(passed);
  }

  arrive(run: string, step: string, phase: "set" | "soaked"): boolean {
    const meeting = `${phase}:${step}`;
    if (!this.passed.has(meeting)) {
      let here = this.arrived.get(meeting);
      if (!here) {
        here = new Set();
        this.arrived.set(meeting, here);
      }
      here.add(run);
      const all = here;
      if (!this.runs.every((r) => all.has(r) || !this.takesPart(r))) {
        this.waits.set(run, { step, phase });
        return false;
      }
      this.passed.add(meeting);
      this.arrived.delete(meeting);
      this.onPassed(meeting);
    }
    this.waits.delete(run);
    return true;
  }

  /** Where `run` waits for the others, if it does. */
  waitOf(run: string): BarrierWait | undefined {
    const wait = this.waits.get(run);
    return wait && !this.passed.has(`${wait.phase}:${wait.step}`) ? wait : undefined;
  }

  /** Meetings passed, for the batch's record (a restart keeps them). */
  passedMeetings(): string[] {
    return [...this.passed];
  }
}
