/**
 * Drive cycles over the API: profiles may follow CSV files in the daemon's drive-cycle folder, and
 * every error names the file relative to that folder, as the client wrote it: never an absolute
 * path of the server (the folder, the temporary directory, the working directory).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InjectOptions } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { auth, type HttpBench, NMC_CELL_BODY, openHttpBench } from "../../support/http-bench.js";

const UDDS = "time_s,current_A\n0,0.5\n1,1\n2,-0.5\n3,0\n";

let scratch: string;
let folder: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "cellbench-drive-cycles-"));
  folder = join(scratch, "drive-cycles");
  mkdirSync(join(folder, "urban"), { recursive: true });
  writeFileSync(join(folder, "udds.csv"), UDDS);
  writeFileSync(join(folder, "urban", "nycc.csv"), UDDS);
  writeFileSync(join(folder, "power.csv"), "time_s,power_W\n0,1\n1,2\n");
  writeFileSync(join(folder, "bad.csv"), "time_s,current_A\n0,1\n0,2\n");
  writeFileSync(join(scratch, "secret.csv"), UDDS);
  // Links inside the folder: one to a file outside it, one to a file inside it.
  symlinkSync(join(scratch, "secret.csv"), join(folder, "escape.csv"));
  symlinkSync(join(folder, "udds.csv"), join(folder, "urban", "udds-link.csv"));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

let h: HttpBench;
afterEach(async () => {
  await h?.close();
});

const profile = (steps: string[], extra: Record<string, unknown> = {}) => ({ name: "dc", ...extra, steps });

type Endpoint = "store" | "check" | "run";
const ENDPOINTS: Endpoint[] = ["store", "check", "run"];

function request(endpoint: Endpoint, p: unknown): InjectOptions {
  switch (endpoint) {
    case "store":
      return { method: "POST", url: "/api/v1/profiles", headers: auth("operator"), payload: { profile: p } };
    case "check":
      return {
        method: "POST",
        url: "/api/v1/profiles/check",
        headers: auth("operator"),
        payload: { profile: p, cell: NMC_CELL_BODY, channel: "ch1" },
      };
    case "run":
      return {
        method: "POST",
        url: "/api/v1/runs",
        headers: auth("operator"),
        payload: { channel: "ch1", cell: NMC_CELL_BODY, profile: p },
      };
  }
}

/** Posts the profile to an endpoint; returns its one issue after checking the 422 problem leaks no path. */
async function issueOf(endpoint: Endpoint, p: unknown): Promise<{ path: string; message: string }> {
  const res = await h.app.inject(request(endpoint, p));
  expect(res.statusCode, res.body).toBe(422);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body.code).toBe("PROFILE_INVALID");
  expectNoServerPath(res.body);
  expect(body.issues).toHaveLength(1);
  expect(body.detail).toBe(`${body.issues[0].path}: ${body.issues[0].message}`);
  return body.issues[0];
}

function expectNoServerPath(text: string): void {
  for (const dir of [scratch, folder, tmpdir(), process.cwd()]) expect(text).not.toContain(dir);
  expect(text).not.toContain(JSON.stringify(scratch).slice(1, -1));
}

describe("drive-cycle errors over the API name paths relative to the drive-cycle folder", () => {
  it("a missing file, with a suggestion from the folder, on every endpoint that takes a profile", async () => {
    h = await openHttpBench({ http: { driveCycleDir: folder } });
    for (const endpoint of ENDPOINTS) {
      expect(await issueOf(endpoint, profile(["Discharge following udds.cvs"])), endpoint).toEqual({
        path: "body.profile.steps[0]",
        message:
          '"Discharge following udds.cvs": cannot read drive cycle udds.cvs: no such file in the daemon\'s drive-cycle folder (did you mean "udds.csv"?); check the name (paths are relative to that folder)',
      });
      expect(
        (await issueOf(endpoint, profile(["Rest for 1 s", "Discharge following ./urban/nyc.csv"]))).message,
        endpoint,
      ).toBe(
        '"Discharge following ./urban/nyc.csv": cannot read drive cycle urban/nyc.csv: no such file in the daemon\'s drive-cycle folder (did you mean "urban/nycc.csv"?); check the name (paths are relative to that folder)',
      );
    }
  });

  it("a file named through drive_cycles, a folder, and a file in a missing folder", async () => {
    h = await openHttpBench({ http: { driveCycleDir: folder } });
    expect(
      await issueOf("check", profile(["Run US06 (A)"], { drive_cycles: { US06: "highway/us06.csv" } })),
    ).toEqual({
      path: "body.profile.steps[0]",
      message:
        '"Run US06 (A)": cannot read drive cycle highway/us06.csv: no such file in the daemon\'s drive-cycle folder; check the name (paths are relative to that folder)',
    });
    expect((await issueOf("store", profile(["Discharge following urban"]))).message).toBe(
      '"Discharge following urban": cannot read drive cycle urban: it is a folder; name a CSV file in it',
    );
  });

  it("a path leaving the folder is refused without naming where it leads", async () => {
    h = await openHttpBench({ http: { driveCycleDir: folder } });
    const outside =
      'the drive cycle lies outside the daemon\'s drive-cycle folder; give a path relative to that folder, without ".." or a leading "/"';
    for (const endpoint of ENDPOINTS) {
      expect((await issueOf(endpoint, profile(["Discharge following ../secret.csv"]))).message).toBe(
        `"Discharge following ../secret.csv": ${outside}`,
      );
      expect(
        (await issueOf(endpoint, profile(["Discharge following urban/../../../../etc/shadow.csv"]))).message,
      ).toBe(`"Discharge following urban/../../../../etc/shadow.csv": ${outside}`);
    }
    // A symbolic link in the folder that points out of it is refused the same way; one that stays inside is followed.
    expect((await issueOf("check", profile(["Discharge following escape.csv"]))).message).toBe(
      `"Discharge following escape.csv": ${outside}`,
    );
    const linked = await h.app.inject(request("check", profile(["Discharge following urban/udds-link.csv"])));
    expect(linked.statusCode).toBe(200);
    // A client that writes an absolute path sees only what it wrote.
    const res = await h.app.inject(request("run", profile(["Discharge following /etc/passwd"])));
    expect(res.statusCode).toBe(422);
    expect(res.json().issues[0].message).toBe(`"Discharge following /etc/passwd": ${outside}`);
    expectNoServerPath(res.body);
    expect(h.runs.list()).toHaveLength(0);
  });

  it("a malformed CSV or the wrong unit is reported against the file as written", async () => {
    h = await openHttpBench({ http: { driveCycleDir: folder } });
    expect((await issueOf("check", profile(["Discharge following bad.csv"]))).message).toBe(
      '"Discharge following bad.csv": bad.csv line 3: time 0 is not after 0; times must increase',
    );
    expect(
      (await issueOf("run", profile(["Run P (A)"], { drive_cycles: { P: "./power.csv" } }))).message,
    ).toBe('"Run P (A)": ./power.csv holds power (W) but the step says (A); make them agree');
  });

  it("without a drive-cycle folder, says so without naming the working directory", async () => {
    h = await openHttpBench();
    for (const endpoint of ENDPOINTS) {
      expect((await issueOf(endpoint, profile(["Discharge following udds.csv"]))).message).toBe(
        '"Discharge following udds.csv": cannot read drive cycle udds.csv: this daemon has no drive-cycle folder, so profiles sent over the API cannot follow CSV files; the bench admin can create a drive-cycles folder beside the bench configuration and put the file there',
      );
      expect((await issueOf(endpoint, profile(["Discharge following ../../udds.csv"]))).message).toBe(
        '"Discharge following ../../udds.csv": cannot read the drive cycle: this daemon has no drive-cycle folder, so profiles sent over the API cannot follow CSV files; the bench admin can create a drive-cycles folder beside the bench configuration and put the file there',
      );
    }
  });

  it("reads files inside the folder, and a stored profile whose file went away names it relative", async () => {
    h = await openHttpBench({ http: { driveCycleDir: folder } });
    writeFileSync(join(folder, "short-lived.csv"), UDDS);
    const stored = await h.app.inject(
      request(
        "store",
        profile(["Discharge following short-lived.csv", "Discharge following urban/nycc.csv"]),
      ),
    );
    expect(stored.statusCode, stored.body).toBe(201);
    const id = stored.json().id;
    unlinkSync(join(folder, "short-lived.csv"));
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/runs",
      headers: auth("operator"),
      payload: { channel: "ch1", cell: NMC_CELL_BODY, profile_id: id },
    });
    expect(res.statusCode).toBe(422);
    expectNoServerPath(res.body);
    expect(res.json().issues).toEqual([
      {
        path: `profile ${id}.steps[0]`,
        message:
          '"Discharge following short-lived.csv": cannot read drive cycle short-lived.csv: no such file in the daemon\'s drive-cycle folder; check the name (paths are relative to that folder)',
      },
    ]);
    const run = await h.app.inject(request("run", profile(["Discharge following urban/nycc.csv"])));
    expect(run.statusCode, run.body).toBe(201);
  });
});
