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
});
