/**
 * The private influxd of `cellbench serve`, with Debian's real influxd: started on a free loopback
 * port with its data in a temporary directory, answering, adopted by a second daemon, stopped; and
 * what happens without influxd, with a port taken by something else, with an influxd that fails.
 * (What a probe tells apart: influx-probe.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { probeInflux } from "../../../src/storage/influx-probe.js";
import {
  findExecutable,
  INSTALL_INFLUXD,
  isAlive,
  type LocalInfluxd,
  provideLocalInflux,
} from "../../../src/storage/local-influxd.js";
import { freePort } from "../../support/influxd.js";

const root = mkdtempSync(join(tmpdir(), "cellbench-local-influxd-"));
const started: LocalInfluxd[] = [];
const servers: Server[] = [];
let dirs = 0;

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});
afterAll(async () => {
  for (const influxd of started) await influxd.stop().catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

describe("provideLocalInflux", () => {
  it("starts a private influxd on a free loopback port, with its data in the directory given, and stops it", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dir = join(root, `d${++dirs}`);
    expect(await probeInflux(url)).toEqual({ kind: "nothing" });

    const outcome = await provideLocalInflux({ url, dir });
    if (outcome.kind !== "started") throw new Error(`expected started, got ${JSON.stringify(outcome)}`);
    const influxd = outcome.influxd;
    started.push(influxd);
    expect(influxd.dir).toBe(dir);
    expect(await probeInflux(url)).toMatchObject({
      kind: "influxdb",
      version: expect.stringMatching(/^1\./),
    });
    expect(isAlive(influxd.pid)).toBe(true);

    const conf = readFileSync(join(dir, "influxd.conf"), "utf8");
    expect(conf).toContain("reporting-disabled = true");
    expect(conf).toContain(`bind-address = "127.0.0.1:${port}"`);
    expect(conf).toMatch(/^bind-address = "127\.0\.0\.1:\d+"$/m);
    expect(conf).toContain(`dir = ${JSON.stringify(join(dir, "data"))}`);
    expect(existsSync(join(dir, "meta"))).toBe(true);
    expect(readFileSync(join(dir, "influxd.pid"), "utf8")).toBe(`${influxd.pid} ${process.pid}\n`);

    // A database written through it lives in that directory.
    const created = await fetch(`${url}/query`, {
      method: "POST",
      body: new URLSearchParams({ q: "CREATE DATABASE here" }),
    });
    expect(created.status).toBe(200);
    const written = await fetch(`${url}/write?db=here`, { method: "POST", body: "m v=1" });
    expect(written.status).toBe(204);
    for (const sub of ["data", "wal"]) expect(existsSync(join(dir, sub, "here"))).toBe(true);

    await influxd.stop();
    expect(influxd.running).toBe(false);
    expect(isAlive(influxd.pid)).toBe(false);
    expect(await probeInflux(url)).toEqual({ kind: "nothing" });
    expect(existsSync(join(dir, "influxd.pid"))).toBe(false);
    expect(existsSync(join(dir, "data"))).toBe(true);
  });

  it("adopts the private influxd a daemon that is gone left running, and stops it", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dir = join(root, `d${++dirs}`);
    const first = await provideLocalInflux({ url, dir });
    if (first.kind !== "started") throw new Error(`expected started, got ${JSON.stringify(first)}`);
    started.push(first.influxd);
    const pidFile = join(dir, "influxd.pid");
    expect(readFileSync(pidFile, "utf8")).toBe(`${first.influxd.pid} ${process.pid}\n`);

    // Its owner (this process) is alive: a second daemon on the same directory leaves it alone.
    expect(await provideLocalInflux({ url, dir })).toMatchObject({ kind: "answering" });
    // Another directory's daemon leaves it alone too.
    expect(await provideLocalInflux({ url, dir: join(root, `d${++dirs}`) })).toMatchObject({
      kind: "answering",
    });

    // Its owner is gone (killed before it could stop influxd): the next daemon adopts it.
    const gone = spawnSync("true");
    expect(isAlive(gone.pid as number)).toBe(false);
    writeFileSync(pidFile, `${first.influxd.pid} ${gone.pid}\n`);
    const again = await provideLocalInflux({ url, dir });
    if (again.kind !== "adopted") throw new Error(`expected adopted, got ${JSON.stringify(again)}`);
    expect(again.influxd.pid).toBe(first.influxd.pid);
    await again.influxd.stop();
    expect(isAlive(first.influxd.pid)).toBe(false);
    expect(await probeInflux(url)).toEqual({ kind: "nothing" });
    expect(existsSync(pidFile)).toBe(false);
  });

  it("says the one command that installs influxd when it is missing, and starts nothing", async () => {
    const port = await freePort();
    const outcome = await provideLocalInflux({
      url: `http://127.0.0.1:${port}`,
      dir: join(root, `d${++dirs}`),
      binary: join(root, "no-such-dir", "influxd"),
    });
    expect(outcome.kind).toBe("missing");
    const message = "message" in outcome ? outcome.message : "";
    expect(message).toContain(`\`${INSTALL_INFLUXD}\``);
    expect(INSTALL_INFLUXD).toBe("sudo apt-get install influxdb");
    expect(message).toContain("spooled to the outbox");
    expect(findExecutable("influxd", join(root, "no-such-dir"))).toBeUndefined();
  });

  it("names a port held by a program that is not InfluxDB, and starts nothing", async () => {
    const server = createHttpServer((_req, res) => {
      res.setHeader("server", "not-influx");
      res.end("hello");
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    const outcome = await provideLocalInflux({
      url: `http://127.0.0.1:${port}`,
      dir: join(root, `d${++dirs}`),
    });
    expect(outcome).toMatchObject({ kind: "port-taken" });
    expect("message" in outcome && outcome.message).toMatch(
      new RegExp(
        `127\\.0\\.0\\.1:${port} is taken by a program that is not InfluxDB \\(it answers HTTP 200 as "not-influx"`,
      ),
    );
  });

  it("reports an influxd that exits during start-up with what it wrote", async () => {
    const fake = join(root, "failing-influxd");
    writeFileSync(
      fake,
      "#!/bin/sh\necho 'run: open server: listen tcp: address already in use' >&2\nexit 1\n",
    );
    chmodSync(fake, 0o755);
    const port = await freePort();
    const outcome = await provideLocalInflux({
      url: `http://127.0.0.1:${port}`,
      dir: join(root, `d${++dirs}`),
      binary: fake,
    });
    expect(outcome.kind).toBe("failed");
    expect("message" in outcome && outcome.message).toMatch(
      /influxd exited during start-up \(1\): run: open server: listen tcp: address already in use/,
    );
  });

  it("leaves URLs that are not loopback http:// alone", async () => {
    const port = await freePort();
    expect(
      await provideLocalInflux({ url: `https://127.0.0.1:${port}`, dir: join(root, `d${++dirs}`) }),
    ).toMatchObject({ kind: "not-local" });
  });
});
