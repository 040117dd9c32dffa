/**
 * `npm run bench`: every benchmark, one after the other, each printing its figures next to the
 * baseline it is judged against (measured in the same run: the machines are shared and noisy).
 */
import { runBusBench } from "./bus.js";
import { runEngineBench } from "./engine.js";
import { runIngestBench } from "./ingest.js";
import { runSafetyBench } from "./safety.js";

await runEngineBench();
console.log();
await runIngestBench();
console.log();
await runBusBench();
console.log();
await runSafetyBench();
