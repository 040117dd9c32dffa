import type {
  ChamberNode,
  LoopNode,
  ProfileNode,
  RepeatNode,
  StepNode,
  SweepNode,
  TemplateNode,
} from "../profile/ast.js";
import { cycleLoops } from "../profile/cycles.js";
import { bindingsOf, instantiate, iterationsOf } from "../profile/loop-variables.js";

/** What the run is doing now: a cycler step, or waiting for the chamber (a chamber step or a sweep's set point). */
export type ProgramItem =
  | { kind: "step"; node: StepNode; path: string; text: string }
  | {
      kind: "chamber";
      node: ChamberNode | SweepNode;
      path: string;
      text: string;
      setpointC: number;
      soakS: number;
      toleranceC: number;
    };

/** Position in one level of the tree: which node, and (inside a loop) which iteration. */
export interface CursorPosition {
  index: number;
  iteration: number;
}

interface Frame {
  nodes: ProfileNode[];
  /** The loop whose body this frame walks; absent for the top level. */
  loop?: RepeatNode | SweepNode;
  /** -1 inside a sweep body means "the sweep's chamber phase of this iteration". */
  index: number;
  iteration: number;
}

export interface AdvanceOutcome {
  /** Cycle ends passed while advancing: iterations of cycle loops that ended (see profile/cycles.ts). */
  cyclesEnded: number;
  done: boolean;
}

/**
 * Asked at the end of each iteration of a repeat that has `until` (the last one too), after that
 * iteration's cycle end is counted: true leaves the loop. `cyclesEnded` is how many cycles this
 * advance has ended so far (the caller ends those before judging the loop's retention).
 */
export type LoopExit = (loop: RepeatNode, cyclesEnded: number) => boolean;

/**
 * Walks a profile tree step by step: loops, sweeps, labels. Its whole state is the list of
 * CursorPositions (one per nesting level), which is what a checkpoint stores. Steps that use loop
 * variables come out instantiated for the iteration the cursor is in.
 */
export class ProgramCursor {
  private lastPositions: readonly Readonly<CursorPosition>[] | undefined;
  private stack: Frame[];
  private finished = false;
  private readonly cycles: Set<LoopNode>;
  private instance: { node: TemplateNode; key: string; step: StepNode } | undefined;

  constructor(private readonly steps: ProfileNode[]) {
    this.stack = [{ nodes: steps, index: 0, iteration: 0 }];
    this.cycles = cycleLoops(steps);
    this.settle();
  }

  get done(): boolean {
    return this.finished;
  }

  current(): ProgramItem | undefined {
    if (this.finished) return undefined;
    const frame = this.top();
    if (frame.index === -1) {
      const sweep = frame.loop as SweepNode;
      const setpointC = sweep.chamberC[frame.iteration] as number;
      return {
        kind: "chamber",
        node: sweep,
        path: `${sweep.path}.sweep[${frame.iteration}]`,
        text: `sweep: chamber ${setpointC} °C, soak ${sweep.soakS} s`,
        setpointC,
        soakS: sweep.soakS,
        toleranceC: sweep.toleranceC,
      };
    }
    const node = frame.nodes[frame.index] as StepNode | ChamberNode | TemplateNode;
    if (node.type === "template") {
      const step = this.instantiate(node);
      return { kind: "step", node: step, path: step.path, text: step.text };
    }
    if (node.type === "chamber") {
      return {
        kind: "chamber",
        node,
        path: node.path,
        text: node.text,
        setpointC: node.setpointC,
        soakS: node.soakS,
        toleranceC: node.toleranceC,
      };
    }
    return { kind: "step", node, path: node.path, text: node.text };
  }

  /** True when the current item lies inside an iteration of a cycle loop (steps outside are in no cycle). */
  inCycle(): boolean {
    return !this.finished && this.stack.some((f) => f.loop !== undefined && this.cycles.has(f.loop));
  }

  /** The loop variables' values where the cursor is (outer loops first): name → value text. */
  bindings(): Map<string, string> {
    const out = new Map<string, string>();
    for (const f of this.stack)
      if (f.loop) for (const [name, value] of bindingsOf(f.loop, f.iteration)) out.set(name, value);
    return out;
  }

  /** Loop iteration counters from the outermost loop inwards (for display and checkpoints). */
  loopCounters(): { path: string; iteration: number }[] {
    return this.stack.flatMap((f) => (f.loop ? [{ path: f.loop.path, iteration: f.iteration }] : []));
  }

  /**
   * Where the cursor is, for a checkpoint: frozen, and the same array as last time while the cursor
   * has not moved (a run is checkpointed with every logged sample).
   */
  positions(): readonly Readonly<CursorPosition>[] {
    const last = this.lastPositions;
    if (last && samePositions(last, this.stack)) return last;
    const positions = Object.freeze(
      this.stack.map((f) => Object.freeze({ index: f.index, iteration: f.iteration })),
    );
    this.lastPositions = positions;
    return positions;
  }

  /** Restores a position saved by positions(); throws when it does not fit this profile. */
  restore(positions: readonly CursorPosition[]): void {
    const stack: Frame[] = [];
    let nodes = this.steps;
    let loop: RepeatNode | SweepNode | undefined;
    for (const [depth, pos] of positions.entries()) {
      const frame: Frame = { nodes, index: pos.index, iteration: pos.iteration };
      if (loop) frame.loop = loop;
      stack.push(frame);
      if (depth === positions.length - 1) break;
      const node = nodes[pos.index];
      if (!node || (node.type !== "repeat" && node.type !== "sweep")) {
        throw new Error(`checkpoint position ${JSON.stringify(positions)} does not fit the profile`);
      }
      loop = node;
      nodes = node.steps;
    }
    this.stack = stack;
    this.finished = false;
    this.settle();
  }

  /** Moves past the current item to the next executable one; `exitLoop` may end repeats with `until`. */
  advance(exitLoop?: LoopExit): AdvanceOutcome {
    if (this.finished) return { cyclesEnded: 0, done: true };
    this.top().index++;
    return this.settle(exitLoop);
  }

  /** Jumps to the node labelled `label`; loop counters of loops that enclose both ends are kept. */
  goto(label: string): void {
    const route = findLabel(this.steps, label);
    if (!route) throw new Error(`goto: no step labelled "${label}"`);
    const stack: Frame[] = [];
    let nodes = this.steps;
    let loop: RepeatNode | SweepNode | undefined;
    let samePrefix = true;
    for (const [depth, index] of route.entries()) {
      const old = this.stack[depth];
      samePrefix = samePrefix && old !== undefined && old.nodes === nodes;
      const frame: Frame = { nodes, index, iteration: samePrefix && old ? old.iteration : 0 };
      if (loop) frame.loop = loop;
      stack.push(frame);
      samePrefix = samePrefix && old?.index === index;
      const node = nodes[index];
      if (depth < route.length - 1 && node && (node.type === "repeat" || node.type === "sweep")) {
        loop = node;
        nodes = node.steps;
      }
    }
    this.stack = stack;
    this.finished = false;
    this.settle();
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1] as Frame;
  }

  private instantiate(node: TemplateNode): StepNode {
    const bindings = this.bindings();
    const key = JSON.stringify([...bindings]);
    if (this.instance?.node !== node || this.instance.key !== key)
      this.instance = { node, key, step: instantiate(node, bindings) };
    return this.instance.step;
  }

  /** Descends into loops and unwinds finished ones until the cursor rests on an item or the end. */
  private settle(exitLoop?: LoopExit): AdvanceOutcome {
    let cyclesEnded = 0;
    for (;;) {
      const frame = this.top();
      if (frame.index === -1) return { cyclesEnded, done: false };
      if (frame.index < frame.nodes.length) {
        const node = frame.nodes[frame.index] as ProfileNode;
        if (node.type === "repeat" || node.type === "sweep") {
          const count = iterationsOf(node);
          if (count <= 0) {
            frame.index++;
            continue;
          }
          this.stack.push({
            nodes: node.steps,
            loop: node,
            index: node.type === "sweep" ? -1 : 0,
            iteration: 0,
          });
          continue;
        }
        return { cyclesEnded, done: false };
      }
      // End of this level's nodes.
      const loop = frame.loop;
      if (!loop) {
        this.finished = true;
        return { cyclesEnded, done: true };
      }
      if (this.cycles.has(loop)) cyclesEnded++;
      frame.iteration++;
      const leave =
        loop.type === "repeat" && loop.until !== undefined && exitLoop?.(loop, cyclesEnded) === true;
      if (!leave && frame.iteration < iterationsOf(loop)) {
        frame.index = loop.type === "sweep" ? -1 : 0;
        continue;
      }
      this.stack.pop();
      this.top().index++;
    }
  }
}

/** Returns the index route from the top level to the node labelled `label`. */
function findLabel(nodes: ProfileNode[], label: string): number[] | undefined {
  for (const [i, node] of nodes.entries()) {
    if (node.label === label) return [i];
    if (node.type === "repeat" || node.type === "sweep") {
      const inner = findLabel(node.steps, label);
      if (inner) return [i, ...inner];
    }
  }
  return undefined;
}

function samePositions(positions: readonly Readonly<CursorPosition>[], stack: readonly Frame[]): boolean {
  if (positions.length !== stack.length) return false;
  for (let i = 0; i < stack.length; i++) {
    const p = positions[i] as CursorPosition;
    const f = stack[i] as Frame;
    if (p.index !== f.index || p.iteration !== f.iteration) return false;
  }
  return true;
}
