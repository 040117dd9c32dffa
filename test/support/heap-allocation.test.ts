import { expect, it } from "vitest";
import { heapAllocationMeter } from "./heap-allocation.js";

it("heapAllocationMeter counts what was allocated, collected or kept", () => {
  const meter = heapAllocationMeter();
  let kept: number[][] = [];
  // 2,000 arrays of 1,024 doubles (8 KB each, 16 MB in all), most of them garbage by the end.
  for (let i = 0; i < 2_000; i++) {
    kept.push(new Array<number>(1_024).fill(i + 0.5));
    if (kept.length > 100) kept = [];
  }
  const bytes = meter.stop();
  expect(kept.length).toBeGreaterThan(0);
  expect(bytes).toBeGreaterThan(16e6);
  expect(bytes).toBeLessThan(48e6);
});
