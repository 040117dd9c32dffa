/** The CLI client against a real daemon API on 127.0.0.1 (simulated bench). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApiError, ServerUnreachableError } from "../../../../src/cli/client/api-client.js";
import { clientCommand } from "../../../../src/cli/client/client-command.js";
import { type HttpBench, openHttpBench, TOKENS, waitFor } from "../../../support/http-bench.js";

const CELL_YAML = `id: NMC-0042
chemistry: li-ion-nmc
capacity_ah: 3
voltage: [2.5, 4.2]
current: [-6, 6]
temperature: [-20, 60]
`;
const SHORT = `name: short
steps:
  - Rest for 5 seconds
  - Discharge at 1C for 10 seconds
`;
const LONG = "name: long\nsteps:\n  - Rest for 10 hours\n";

let dir: string;
let h: HttpBench;
let url: string;
const out: string[] = [];
const print = (line: string) => void out.push(line);
const env = () => ({ CELLBENCH_URL: url, CELLBENCH_TOKEN: TOKENS.operator });
const cli = (...argv: string[]) => clientCommand(argv, print, env());
/** `cellbench run start` on ch1 with the test cell and `<profile>.yaml` from the scratch folder. */
const startOnCh1 = (profile: string) =>
  cli(
    "run",
    "start",
    "--channel",
    "ch1",
    "--cell",
    join(dir, "cell.yaml"),
    "--profile",
    join(dir, `${profile}.yaml`),
  );

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cellbench-cli-"));
  writeFileSync(join(dir, "cell.yaml"), CELL_YAML);
  writeFileSync(join(dir, "short.yaml"), SHORT);
  writeFileSync(join(dir, "long.yaml"), LONG);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  out.length = 0;
  await h?.close();
});

async function serve(auto: boolean) {
  h = await openHttpBench({ auto, estimate: true, http: { sampleRateHz: 0 } });
  url = await h.app.listen({ host: "127.0.0.1", port: 0 });
}

const started = () => /started (R\d{8}-\d{4})/.exec(out.join("\n"))?.[1] as string;

describe("cellbench client commands", () => {
  it("shows the bench and lists runs", async () => {
    await serve(true);
    await waitFor(() => h.bench.channel("ch1").latest !== undefined, "a first sample");
    await cli("bench");
    expect(out[0]).toMatch(/^bench test at /);
    expect(out[1]).toMatch(/^CHANNEL\s+DEVICE\s+CHAMBER\s+RUN\s+STATE\s+V\s+A\s+°C/);
    expect(out[2]).toMatch(/^ch1\s+cycler1\s+tc1\s+-\s+idle\s+\d\.\d{4}/);
    expect(out.some((l) => l.startsWith("chamber tc1:"))).toBe(true);
    out.length = 0;
    await cli("runs");
    expect(out).toEqual(["no runs"]);
  });

  it("starts, pauses, resumes, shows and stops a run; an invalid transition throws the problem's detail", async () => {
    await serve(false);
    await startOnCh1("long");
    const id = started();
    expect(out[0]).toBe(`started ${id} on ch1: long on cell NMC-0042 (running)`);
    await cli("run", "pause", id);
    await cli("run", "resume", id);
    expect(out.slice(1)).toEqual([`${id}: paused (paused by operator)`, `${id}: running (resumed)`]);
    out.length = 0;
    await h.clock.advanceBy(5000);
    await cli("run", "show", id);
    expect(out[0]).toBe(`run       ${id} on ch1: long on cell NMC-0042`);
    expect(out).toContain("state     running (resumed)");
    expect(out.some((l) => /^step\s+1 steps\[0\] "Rest for 10 hours"/.test(l))).toBe(true);
    out.length = 0;
    await cli("runs", "--state", "running");
    expect(out[1]).toMatch(new RegExp(`^${id}\\s+ch1\\s+running\\s+NMC-0042\\s+long\\s+steps\\[0\\]`));
    await cli("run", "stop", id);
    expect(out[out.length - 1]).toMatch(new RegExp(`^${id}: stopped`));
    const error = await cli("run", "pause", id).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("RUN_INVALID_TRANSITION");
    expect((error as ApiError).message).toMatch(/is stopped: cannot pause it/);
  });

  it("watches a run live with a progress bar until it completes", async () => {
    await serve(false);
    await startOnCh1("short");
    const id = started();
    await waitFor(() => h.runs.get(id).progress !== null, "the estimate");
    out.length = 0;
    let done = false;
    const watching = cli("run", "watch", id).finally(() => {
      done = true;
    });
    await waitFor(() => out.length > 0, "the snapshot");
    for (let i = 0; i < 60 && !done; i++) {
      await h.clock.advanceBy(1000);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await watching;
    expect(out[0]).toBe(`${id} on ch1: short on cell NMC-0042, running`);
    expect(out.some((l) => /^\[[#-]{24}\]\s+\d+\.\d %\s+\d\.\d{4} V\s+-?\d\.\d{3} A/.test(l))).toBe(true);
    expect(out.some((l) => l.includes("step 2 steps[1]: Discharge at 1C for 10 seconds"))).toBe(true);
    expect(out[out.length - 1]).toBe("  completed");
  });

  it("tells the watcher when the daemon shuts down before the run ends", async () => {
    await serve(false);
    await startOnCh1("long");
    const id = started();
    out.length = 0;
    const watching = cli("run", "watch", id).catch((err: unknown) => err);
    await waitFor(() => out.length > 0, "the snapshot");
    await h.app.close();
    const error = await watching;
    expect((error as { code?: string }).code).toBe("STREAM_ENDED");
    expect((error as Error).message).toMatch(new RegExp(`closed the live stream while run ${id}`));
  });

  it("fails a watch whose run ends faulted or aborted, with the reason", async () => {
    await serve(true);
    await startOnCh1("long");
    const id = started();
    await cli("run", "abort", id);
    const error = await cli("run", "watch", id).catch((err: unknown) => err);
    expect((error as { code?: string }).code).toBe("RUN_NOT_COMPLETED");
    expect((error as Error).message).toMatch(new RegExp(`run ${id} ended aborted`));
  });

  it("prints the problem's detail for refused requests: no token, invalid profile", async () => {
    await serve(true);
    const noToken = await clientCommand(["runs"], print, { CELLBENCH_URL: url }).catch((err: unknown) => err);
    expect((noToken as ApiError).code).toBe("UNAUTHORIZED");
    const viewer = await clientCommand(
      [
        "run",
        "start",
        "--channel",
        "ch1",
        "--cell",
        join(dir, "cell.yaml"),
        "--profile",
        join(dir, "short.yaml"),
      ],
      print,
      { CELLBENCH_URL: url, CELLBENCH_TOKEN: TOKENS.viewer },
    ).catch((err: unknown) => err);
    expect((viewer as ApiError).code).toBe("FORBIDDEN");
    writeFileSync(
      join(dir, "bad.yaml"),
      "name: bad\nsteps:\n  - Discharge at 10 A for 1 s\n  - Charge at 1 Q\n",
    );
    const invalid = await startOnCh1("bad").catch((err: unknown) => err);
    expect((invalid as ApiError).code).toBe("PROFILE_INVALID");
    expect((invalid as ApiError).message).toContain("body.profile.steps[1]");
    const token = await clientCommand(["runs", "--url", url, "--token", TOKENS.viewer], print, {});
    expect(token).toBeUndefined();
  });

  it("says when the daemon cannot be reached, and explains usage mistakes", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as { port: number };
        server.close(() => resolve(address.port));
      });
    });
    const down = await clientCommand(["bench"], print, { CELLBENCH_URL: `http://127.0.0.1:${port}` }).catch(
      (err: unknown) => err,
    );
    expect(down).toBeInstanceOf(ServerUnreachableError);
    expect((down as Error).message).toMatch(/ECONNREFUSED/);
    for (const argv of [
      ["frobnicate"],
      ["run", "start", "--channel", "ch1"],
      ["runs", "--state", "exploded"],
      ["run", "pause"],
      ["bench", "--nope"],
    ]) {
      const err = await clientCommand(argv, print, {}).catch((e: unknown) => e);
      expect((err as { code?: string }).code, argv.join(" ")).toBe("USAGE");
    }
  });
});
