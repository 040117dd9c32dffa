// The host-stall sentinel (host-stalls.ts): a process of its own, at a CPU priority above every thread of
// the daemon, that wakes every millisecond and reports each time it could not. Such a stall is the
// host's (hypervisor, kernel): no request to the daemon can cause it, and no code of it can prevent it.
// Argument: the shortest gap to report, ms. Messages: { type: "ready", nice }, { type: "stall",
// fromMs, ms } on the monotonic clock (process.hrtime, shared by every process), { type: "flushed" }.

import { getPriority, setPriority } from "node:os";

const minStallMs = Number(process.argv[2] ?? "2");
for (const nice of [-20, -15, -11]) {
  try {
    setPriority(0, nice);
    break;
  } catch {
    // not allowed here: try a lesser raise; at worst the sentinel keeps the priority it inherited
  }
}

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
const TIMER_MS = 1;
let last = monotonicMs();
setInterval(() => {
  const now = monotonicMs();
  const gap = now - last - TIMER_MS;
  if (gap >= minStallMs) process.send?.({ type: "stall", fromMs: last + TIMER_MS, ms: gap });
  last = now;
}, TIMER_MS);

process.on("message", (message) => {
  // Messages go in order: every stall seen before this one has been sent.
  if (message?.type === "flush") process.send?.({ type: "flushed" });
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready", nice: getPriority(0) });
