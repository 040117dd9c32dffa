#!/usr/bin/env node
// Lists imports that cross cellbench's layers the wrong way: protocols <- drivers <- src.
// Usage: node ../shared/tools/check-layers.mjs [project-root]   (exit 1 when a crossing is found)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? ".");
const rank = { protocols: 0, drivers: 1, src: 2 };
const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function* files(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(c|m)?tsx?$|\.(c|m)?js$/.test(name) && !/\.(test|spec)\./.test(name)) yield path;
  }
}

const crossings = [];
for (const layer of Object.keys(rank)) {
  for (const file of files(join(root, layer))) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith(".")) continue;
      const target = relative(root, resolve(dirname(file), spec)).split(/[\\/]/)[0];
      if (target in rank && rank[target] > rank[layer])
        crossings.push(`${relative(root, file)} imports ${spec} (${layer} -> ${target})`);
    }
  }
}
if (crossings.length) {
  console.log(`layer crossings (protocols <- drivers <- src):\n  ${crossings.join("\n  ")}`);
  process.exit(1);
}
console.log("layers: no crossing");
