import type { ChamberNode, ProfileNode, RepeatNode, StepNode, SweepNode } from "../profile/ast.js";

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
  /** Cycle ends passed while advancing (a cycle is one iteration of a loop that holds no further loop). */
  cyclesEnded: number;
  done: boolean;
}

/**
 * Walks a profile tree step by step: loops, sweeps, labels. Its whole state is the list of
 * CursorPositions (one per nesting level), which is what a checkpoint stores.
 */
export class ProgramCursor {
  private stack: Frame[];
  private finished = false;

  constructor(private readonly steps: ProfileNode[]) {
    this.stack = [{ nodes: steps, index: 0, iteration: 0 }];
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
    const node = frame.nodes[frame.index] as StepNode | ChamberNode;
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

  /** Whether the current item lies inside an iteration of a cycle loop. */
  inCycle(): boolean {
    return !this.finished && this.stack.some((f) => f.loop !== undefined && isInnermostLoop(f.loop));
  }

  /** Loop iteration counters from the outermost loop inwards (for display and checkpoints). */
  loopCounters(): { path: string; iteration: number }[] {
    return this.stack.flatMap((f) => (f.loop ? [{ path: f.loop.path, iteration: f.iteration }] : []));
  }

  positions(): CursorPosition[] {
    return this.stack.map((f) => ({ index: f.index, iteration: f.iteration }));
  }

  /** Restores a position saved by positions(); throws when it does not fit this profile. */
  restore(positions: CursorPosition[]): void {
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

  /** Moves past the current item to the next executable one. */
  advance(): AdvanceOutcome {
    if (this.finished) return { cyclesEnded: 0, done: true };
    this.top().index++;
    return this.settle();
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

  /** Descends into loops and unwinds finished ones until the cursor rests on an item or the end. */
  private settle(): AdvanceOutcome {
    let cyclesEnded = 0;
    for (;;) {
      const frame = this.top();
      if (frame.index === -1) return { cyclesEnded, done: false };
      if (frame.index < frame.nodes.length) {
        const node = frame.nodes[frame.index] as ProfileNode;
        if (node.type === "repeat" || node.type === "sweep") {
          const count = node.type === "repeat" ? node.count : node.chamberC.length;
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
      if (isInnermostLoop(loop)) cyclesEnded++;
      frame.iteration++;
      const count = loop.type === "repeat" ? loop.count : loop.chamberC.length;
      if (frame.iteration < count) {
        frame.index = loop.type === "sweep" ? -1 : 0;
        continue;
      }
      this.stack.pop();
      this.top().index++;
    }
  }
}

const innermost = new WeakMap<RepeatNode | SweepNode, boolean>();

function isInnermostLoop(loop: RepeatNode | SweepNode): boolean {
  let known = innermost.get(loop);
  if (known === undefined) {
    known = !loop.steps.some((n) => n.type === "repeat" || n.type === "sweep");
    innermost.set(loop, known);
  }
  return known;
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
