import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The version in cellbench's package.json, found from `fromDir` upwards: the module runs from
 * src/cli (tsx) or dist/src/cli (the build), so the file is two or three levels up.
 */
export function packageVersion(fromDir: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const manifest = readManifest(join(dir, "package.json"));
    if (manifest?.name === "cellbench" && typeof manifest.version === "string") return manifest.version;
    if (dirname(dir) === dir) throw new Error(`no package.json of cellbench above ${fromDir}`);
  }
}

function readManifest(path: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}
