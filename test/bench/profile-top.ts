/**
 * The functions that spent the most self time in a V8 CPU profile (node --cpu-prof), with their
 * file:line, to see where the loop-capacity bench's time goes. Under tsx the profile's positions are
 * those of the transformed code (line 1 for every function of a .ts file): the line shown is then
 * where a function of that name is defined in the source ("~" marks such a guess).
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof test/bench/main.ts --only loop
 *   npx tsx test/bench/profile-top.ts /tmp/prof/CPU.*.cpuprofile [N]
 */
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

const [file, count] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: profile-top.ts <file.cpuprofile> [N]\n");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const frameOf = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
const selfUs = new Map<string, number>();
let totalUs = 0;
for (const [i, id] of profile.samples.entries()) {
  const frame = frameOf.get(id);
  const dt = profile.timeDeltas[i] ?? 0;
  totalUs += dt;
  if (!frame) continue;
  const where = frame.url.startsWith("file://")
    ? relative(process.cwd(), fileURLToPath(frame.url))
    : frame.url;
  // lineNumber is 0-based in the profile.
  const name = frame.functionName || "(anonymous)";
  const guess = frame.lineNumber === 0 && where.endsWith(".ts") ? definitionLine(where, name) : undefined;
  const line =
    guess !== undefined
      ? `~${guess}`
      : frame.lineNumber === 0 && where.endsWith(".ts")
        ? "?"
        : `${frame.lineNumber + 1}`;
  const key = `${name}  ${where ? `${where}:${line}` : ""}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
}
/** The line of the first definition of `name` in a TypeScript file, or undefined. */
function definitionLine(path: string, name: string): number | undefined {
  if (!existsSync(path) || !/^[\w$]+$/.test(name)) return undefined;
  const pattern = new RegExp(
    `^\\s*(?:export\\s+)?(?:(?:async|static|private|protected|public|readonly|get|set|function)\\s+)*\\*?${name}\\s*[(<]`,
  );
  const index = readFileSync(path, "utf8")
    .split("\n")
    .findIndex((line) => pattern.test(line));
  return index < 0 ? undefined : index + 1;
}

const top = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(count ?? 10));
console.log(`self time of ${(totalUs / 1e6).toFixed(1)} s sampled`);
for (const [key, us] of top)
  console.log(
    `${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`,
  );
