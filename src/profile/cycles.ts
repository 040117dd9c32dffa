/**
 * Which loops' iterations are a run's cycles. When any loop of the profile is marked `cycle: true`,
 * the iterations of the marked loops are the cycles; otherwise each iteration of an innermost loop
 * (one holding no further loop) is one. Steps outside those loops belong to no cycle.
 */
import type { LoopNode, ProfileNode } from "./ast.js";

const isLoop = (n: ProfileNode): n is LoopNode => n.type === "repeat" || n.type === "sweep";

/** The loops whose iterations are cycles, by the rule above. */
export function cycleLoops(nodes: ProfileNode[]): Set<LoopNode> {
  const loops: LoopNode[] = [];
  const collect = (list: ProfileNode[]): void => {
    for (const n of list) {
      if (!isLoop(n)) continue;
      loops.push(n);
      collect(n.steps);
    }
  };
  collect(nodes);
  const marked = loops.filter((l) => l.cycle === true);
  return new Set(marked.length > 0 ? marked : loops.filter((l) => !l.steps.some(isLoop)));
}

/** True when `loop` is a cycle loop or holds one (at any depth). */
export function holdsCycles(loop: LoopNode, cycles: Set<LoopNode>): boolean {
  return cycles.has(loop) || loop.steps.some((n) => isLoop(n) && holdsCycles(n, cycles));
}
