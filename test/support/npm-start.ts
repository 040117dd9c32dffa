import { readFileSync } from "node:fs";

/**
 * `npm start`'s node arguments up to and including `serve` (its flags, the young generation's cap
 * among them), as package.json gives them: a test that starts the daemon starts it as it is run.
 */
export function npmStartServeArgs(): string[] {
  const start = npmScript("start");
  const [node, ...args] = start.split(/\s+/);
  const serve = args.indexOf("serve");
  if (node !== "node" || serve < 0) throw new Error(`npm start is not "node … serve …": ${start}`);
  return args.slice(0, serve + 1);
}

/** The node flags an npm script (`start`, `bench`) gives before its script, as package.json has them. */
export function npmScriptNodeFlags(name: string): string[] {
  const line = npmScript(name);
  const [node, ...args] = line.split(/\s+/);
  const script = args.findIndex((a) => a.endsWith(".ts") || a.endsWith(".js"));
  if (node !== "node" || script < 0) throw new Error(`npm run ${name} is not "node … <script>": ${line}`);
  return args.slice(0, script);
}

/** An npm script's command line as package.json has it ("" when there is none). */
function npmScript(name: string): string {
  const { scripts } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    scripts: Record<string, string>;
  };
  return scripts[name] ?? "";
}
