import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type AttackBench, openAttackBench, underAttack } from "../../../support/attack-bench.js";

let h: AttackBench;
beforeAll(async () => {
  h = await openAttackBench();
});
afterAll(async () => {
  await h.close();
});
it("a 300 ms stall shows", async () => {
  const r = await underAttack(h, async () => {
    const t = Date.now();
    while (Date.now() - t < 300);
  });
  console.log(JSON.stringify(r));
  expect(r.attack.missed).toBeGreaterThan(5);
  expect(r.attack.maxMs).toBeGreaterThan(250);
});

it("a 300 ms stall of the whole host (this process and the sentinel stopped together) is the host's", async () => {
  const r = await underAttack(h, () =>
    // Another process stops both, as a hypervisor taking the vCPUs would, and lets them go on.
    promisify(execFile)("sh", [
      "-c",
      `kill -STOP ${process.pid} ${h.host.pid}; sleep 0.3; kill -CONT ${process.pid} ${h.host.pid}`,
    ]),
  );
  console.log(JSON.stringify(r));
  expect(r.attack.host.missedAsMeasured).toBeGreaterThan(5);
  expect(r.attack.host.maxMsAsMeasured).toBeGreaterThan(250);
  if (h.host.outranks(h.loopNice)) {
    expect(r.attack.host.longestMs).toBeGreaterThan(250);
    expect(r.attack.missed).toBe(0);
    expect(r.attack.maxMs).toBeLessThan(100);
  } else {
    // A sentinel no higher than the sampling thread proves nothing: the stall stays counted.
    expect(r.attack.missed).toBe(r.attack.host.missedAsMeasured);
  }
});
