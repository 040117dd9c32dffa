/** The CLI's queue and batch commands against a real daemon API on 127.0.0.1 (simulated bench). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../../../src/cli/cli-error.js";
import { ApiError } from "../../../../src/cli/client/api-client.js";
import { clientCommand } from "../../../../src/cli/client/client-command.js";
import { type HttpBench, openHttpBench, TOKENS } from "../../../support/http-bench.js";
import { rejection } from "../../../support/wait.js";

const cellYaml = (id: string) => `id: ${id}
chemistry: li-ion-nmc
capacity_ah: 3
voltage: [2.5, 4.2]
current: [-6, 6]
temperature: [-20, 60]
`;
const LONG = "name: long\nsteps:\n  - Rest for 10 hours\n";
const SWEEP = `name: sweep
steps:
  - sweep: { chamber: [30, 35] }
    soak: 10 minutes
    steps:
      - Rest for 1 hour
`;

let dir: string;
let h: HttpBench;
const out: string[] = [];
let env: NodeJS.ProcessEnv = {};
const cli = (...argv: string[]) => clientCommand(argv, (line) => void out.push(line), env);
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cellbench-cli-queue-"));
  writeFileSync(file("cell-a.yaml"), cellYaml("NMC-A"));
  writeFileSync(file("cell-b.yaml"), cellYaml("NMC-B"));
  writeFileSync(file("long.yaml"), LONG);
  writeFileSync(file("sweep.yaml"), SWEEP);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  out.length = 0;
  await h?.close();
});

async function serve() {
  h = await openHttpBench({
    auto: false,
    config: {
      devices: [
        { id: "cycler1", driver: "sim/cycler", channels: ["ch1", "ch2"], options: { initialSoc: 0.5 } },
        { id: "tc1", driver: "sim/chamber", options: { initialC: 25 } },
      ],
      chambers: [{ id: "tc1", device: "tc1", channels: ["ch1", "ch2"] }],
    },
  });
  const url = await h.app.listen({ host: "127.0.0.1", port: 0 });
  env = { CELLBENCH_URL: url, CELLBENCH_TOKEN: TOKENS.operator };
}

describe("cellbench queue", () => {
  it("adds, shows, cancels and clears queued runs", async () => {
    await serve();
    const add = () =>
      cli("queue", "add", "--channel", "ch1", "--cell", file("cell-a.yaml"), "--profile", file("long.yaml"));
    await add();
    await add();
    await add();
    expect(out[0]).toMatch(/^started R\d{8}-\d{4} on ch1: long on cell NMC-A$/);
    expect(out[1]).toMatch(/^queued R\d{8}-\d{4} on ch1: long on cell NMC-A$/);
    const queued = (out[1] as string).split(" ")[1] as string;
    out.length = 0;
    await cli("queue", "show", "--channel", "ch1");
    expect(out[0]).toMatch(/^queue of ch1: 2 queued, R\d{8}-\d{4} on the channel$/);
    expect(out[1]).toBe("#  RUN             CELL   PROFILE");
    expect(out[2]).toBe(`1  ${queued}  NMC-A  long`);
    out.length = 0;
    await cli("queue", "cancel", queued);
    expect(out).toEqual([`cancelled ${queued} on ch1`]);
    out.length = 0;
    await cli("queue", "clear", "--channel", "ch1");
    expect(out[0]).toMatch(/^queue of ch1: 0 queued/);
    const missing = await rejection(cli("queue", "cancel", queued));
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing.code).toBe("QUEUE_ENTRY_UNKNOWN");
    expect(await rejection(cli("queue", "show"))).toBeInstanceOf(UsageError);
    expect(await rejection(cli("queue", "add", "--channel", "ch1"))).toBeInstanceOf(UsageError);
  });
});

describe("cellbench batch", () => {
  it("starts a batch with one cell file per channel, shows and stops it", async () => {
    await serve();
    await cli(
      "batch",
      "start",
      "--profile",
      file("sweep.yaml"),
      "--cell",
      `ch1=${file("cell-a.yaml")}`,
      "--cell",
      `ch2=${file("cell-b.yaml")}`,
    );
    expect(out[0]).toMatch(/^batch B\d{8}-\d{4} in chamber tc1: sweep \(running\)$/);
    const id = (out[0] as string).split(" ")[1] as string;
    expect(out[1]).toBe("CHANNEL  RUN             STATE    STEP               WAITS AT");
    expect(out.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(["ch1", "ch2"]);
    out.length = 0;
    await cli("batch", "stop", id);
    expect(out[0]).toBe(`batch ${id} in chamber tc1: sweep (ended)`);
    expect(out.slice(2).map((l) => l.split(/\s+/)[2])).toEqual(["stopped", "stopped"]);
    const bad = await rejection(
      cli("batch", "start", "--profile", file("sweep.yaml"), "--cell", file("cell-a.yaml")),
    );
    expect(bad).toBeInstanceOf(UsageError);
    expect(bad.message).toMatch(/give CH=FILE/);
  });
});
