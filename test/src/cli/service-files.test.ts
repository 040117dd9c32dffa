/**
 * examples/systemd/ and examples/udev/ against the code: the unit's command is one the CLI runs, the
 * variables it sets are ones the daemon reads, and the groups and paths agree with each other.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ENVIRONMENT } from "../../../src/cli/environment.js";
import { main } from "../../../src/cli/main.js";
import { memoryReducerOff } from "../../../src/sampling/memory-reducer.js";
import { SEMI_SPACE_MIB, semiSpaceCap } from "../../../src/sampling/young-generation.js";

const root = join(import.meta.dirname, "..", "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const UNIT = "examples/systemd/cellbench.service";
const ENV_FILE = "examples/systemd/cellbench.env";
const RULES = "examples/udev/99-cellbench.rules";

/** A unit file's settings: section → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header?.[1]) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!setting?.[1] || !current) throw new Error(`not a unit file line: ${line}`);
    current.set(setting[1], [...(current.get(setting[1]) ?? []), setting[2] ?? ""]);
  }
  return sections;
}

const unit = parseUnit(read(UNIT));
const service = unit.get("Service") ?? new Map<string, string[]>();
const one = (key: string) => {
  const values = service.get(key) ?? [];
  expect(values, key).toHaveLength(1);
  return values[0] as string;
};

/** The variables an environment file sets or shows commented out (`#NAME=`). */
/** ExecStart as node, the flags node takes, the script and the script's arguments. */
function execStart(): { node?: string; flags: string[]; script?: string; args: string[] } {
  const [node, ...rest] = one("ExecStart").split(/\s+/);
  const flags: string[] = [];
  while (rest[0]?.startsWith("--")) flags.push(rest.shift() as string);
  const [script, ...args] = rest;
  return { node, flags, script, args };
}

function envFileNames(text: string): string[] {
  return [...text.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string);
}

describe("examples/systemd/cellbench.service", () => {
  const scratch = mkdtempSync(join(tmpdir(), "cellbench-unit-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("runs the build's CLI entry point from the working directory: what `npm run build` makes of src/cli/main.ts", () => {
    const { node, script, args } = execStart();
    expect(node).toBe("/usr/bin/node");
    const tsconfig = JSON.parse(read("tsconfig.json")) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    const built = join(
      tsconfig.compilerOptions.outDir,
      relative(tsconfig.compilerOptions.rootDir, "src/cli/main.ts"),
    );
    expect(script).toBe(built.replace(/\.ts$/, ".js"));
    expect((JSON.parse(read("package.json")) as { bin: Record<string, string> }).bin.cellbench).toBe(script);
    expect(one("WorkingDirectory")).toBe("/opt/cellbench");
    expect(args).toEqual(["serve", "--config", "/etc/cellbench/bench.yaml"]);
  });

  it("starts node with the young generation capped, as the daemon asks at start-up", () => {
    expect(semiSpaceCap(execStart().flags, "")).toBe(SEMI_SPACE_MIB);
  });

  it("starts node with V8's memory reducer off, as the daemon asks at start-up", () => {
    expect(memoryReducerOff(execStart().flags)).toBe(true);
  });

  it("its command line is one `cellbench serve` takes: it gets as far as reading the configuration", async () => {
    const { args } = execStart();
    const missing = join(scratch, "bench.yaml");
    const errors: string[] = [];
    const spy = vi
      .spyOn(console, "error")
      .mockImplementation((...a: unknown[]) => void errors.push(a.join(" ")));
    try {
      const code = await main(args.map((a) => (a === "/etc/cellbench/bench.yaml" ? missing : a)));
      // Exit 1, not 2: the options parsed; the file (absent here) is what stopped it.
      expect(code).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join("\n")).toContain(
      `${missing}: invalid configuration:\n  cannot read the file (ENOENT)`,
    );
  });

  it("sets only variables the daemon reads, from an environment file that ships beside it", () => {
    expect(one("EnvironmentFile")).toBe("/etc/cellbench/cellbench.env");
    const daemonReads = ENVIRONMENT.filter((v) => v.readBy.startsWith("serve")).map((v) => v.name);
    const names = envFileNames(read(ENV_FILE));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(daemonReads, `${ENV_FILE} sets ${name}`).toContain(name);
    for (const name of ["CELLBENCH_TOKENS", "INFLUX_URL", "INFLUX_DB", "INFLUX_TOKEN"])
      expect(names).toContain(name);
    for (const line of service.get("Environment") ?? [])
      expect(daemonReads).toContain(/^"?([A-Z_]+)=/.exec(line)?.[1]);
    // The example tokens are commented out: a daemon started on the file as shipped accepts no token.
    expect(read(ENV_FILE)).not.toMatch(/^CELLBENCH_TOKENS=/m);
  });

  it("runs as its own user with the serial ports' group, restarts on failure, hardened", () => {
    expect(one("User")).toBe("cellbench");
    expect(one("SupplementaryGroups")).toBe("dialout");
    expect(one("Restart")).toBe("on-failure");
    expect(one("ProtectSystem")).toBe("strict");
    expect(one("NoNewPrivileges")).toBe("true");
    expect(one("ProtectHome")).toBe("true");
    expect(one("PrivateTmp")).toBe("true");
    expect(one("CapabilityBoundingSet")).toBe("");
    // Where the store may be written under ProtectSystem=strict, as the unit's comment tells bench.yaml.
    expect(one("StateDirectory")).toBe("cellbench");
    expect(read(UNIT)).toContain("store: /var/lib/cellbench/cellbench.db");
    // The daemon's own nice value (src/sampling/process-priority.ts) without CAP_SYS_NICE.
    expect(one("Nice")).toBe("-10");
    // sampling.realtime_priority as the README recommends it (50), without a capability: the kernel
    // lets a thread's owner raise it to SCHED_FIFO up to its RLIMIT_RTPRIO, unless systemd's
    // RestrictRealtime= filter refuses the call.
    expect(Number(one("LimitRTPRIO"))).toBeGreaterThanOrEqual(50);
    expect(service.has("RestrictRealtime")).toBe(false);
    expect(read("README.md")).toContain("realtime_priority: 50");
    // Serial ports stay visible (PrivateDevices= hides them), and V8's JIT allowed.
    expect(service.has("PrivateDevices")).toBe(false);
    expect(service.has("MemoryDenyWriteExecute")).toBe(false);
    expect(service.get("DeviceAllow")).toEqual(expect.arrayContaining(["char-ttyUSB rw", "char-ttyACM rw"]));
    expect(unit.get("Install")?.get("WantedBy")).toEqual(["multi-user.target"]);
  });

  it.skipIf(!existsSync("/usr/bin/systemd-analyze"))(
    "passes systemd-analyze verify without a warning",
    () => {
      // verify checks that ExecStart's program exists: this machine's node stands in for /usr/bin/node.
      const copy = join(scratch, "cellbench.service");
      writeFileSync(copy, read(UNIT).replace("ExecStart=/usr/bin/node ", `ExecStart=${process.execPath} `));
      const out = execFileSync("/bin/sh", ["-c", `/usr/bin/systemd-analyze verify '${copy}' 2>&1`], {
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(out).toBe("");
    },
  );
});

describe("examples/udev/99-cellbench.rules", () => {
  const rules = read(RULES)
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"));
  const commentedRules = read(RULES)
    .split("\n")
    .filter((line) => /^#SUBSYSTEM==/.test(line))
    .map((line) => line.slice(1));

  it('has rules, each made of udev\'s KEY=="value" / KEY="value" / KEY+="value" pairs', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of [...rules, ...commentedRules]) {
      const pairs = rule.split(/,\s*/);
      for (const pair of pairs) expect(pair, rule).toMatch(/^[A-Z]+(\{\w+\})?(==|!=|=|\+=)"[^"]*"$/);
    }
  });

  it("gives each serial port to the group the service joins, under a stable /dev/cellbench/ name", () => {
    for (const rule of [...rules, ...commentedRules]) {
      expect(rule).toContain('SUBSYSTEM=="tty"');
      expect(rule).toContain(`GROUP="${one("SupplementaryGroups")}"`);
      expect(rule).toMatch(/SYMLINK\+="cellbench\/[\w-]+"/);
    }
  });

  it("tells how to find the stable names: /dev/serial/by-id/ and udevadm info", () => {
    const text = read(RULES);
    expect(text).toContain("ls -l /dev/serial/by-id/");
    expect(text).toContain("udevadm info --query=property --name=/dev/ttyUSB0");
    expect(text).toContain("udevadm info --attribute-walk --name=/dev/ttyUSB0");
    expect(text).toContain("serial:///dev/serial/by-id/");
  });
});
