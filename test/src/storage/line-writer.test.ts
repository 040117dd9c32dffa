import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyWriteReply, HttpLineWriter } from "../../../src/storage/line-writer.js";
import { freePort, type Influxd, startInfluxd } from "../../support/influxd.js";

describe("classifyWriteReply", () => {
  it("treats 2xx as written", () => {
    expect(classifyWriteReply(204, "")).toEqual({ kind: "written", status: 204 });
  });

  it("treats 1.x partial writes and parse errors as rejected data, keeping the server's message", () => {
    const partial =
      '{"error":"partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type string, already exists as type float dropped=1"}';
    expect(classifyWriteReply(400, partial)).toEqual({
      kind: "rejected",
      status: 400,
      message:
        'partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1',
    });
    expect(classifyWriteReply(400, `{"error":"unable to parse 'm v=abc 6000': invalid boolean"}`).kind).toBe(
      "rejected",
    );
  });

  it("reads 2.x and 3.x error bodies", () => {
    expect(
      classifyWriteReply(422, '{"code":"unprocessable entity","message":"points beyond retention policy"}'),
    ).toEqual({
      kind: "rejected",
      status: 422,
      message: "points beyond retention policy",
    });
    const v3 = classifyWriteReply(
      400,
      '{"error":"partial write of line protocol occurred","data":[{"original_line":"m v=x","line_number":2,"error_message":"bad"}]}',
    );
    expect(v3.kind).toBe("rejected");
    expect(v3.kind === "rejected" && v3.message).toContain('"line_number":2');
  });

  it("does not blame the data for request-level problems", () => {
    expect(classifyWriteReply(404, '{"error":"database not found: \\"x\\""}')).toMatchObject({
      kind: "failed",
      databaseMissing: true,
    });
    expect(classifyWriteReply(400, '{"error":"database is required"}').kind).toBe("failed");
    expect(classifyWriteReply(401, '{"error":"authorization failed"}').kind).toBe("failed");
    expect(classifyWriteReply(500, '{"error":"retention policy not found: nope"}').kind).toBe("failed");
    expect(classifyWriteReply(503, "").kind).toBe("failed");
    expect(classifyWriteReply(413, "").kind).toBe("too-large");
  });
});

describe("HttpLineWriter against a recording HTTP server", () => {
  let server: Server;
  let port: number;
  const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let stall = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => {
        body += chunk;
      });
      req.on("end", () => {
        seen.push({ url: req.url ?? "", headers: req.headers, body });
        if (stall) return; // never answer
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("posts to /write with db, rp and precision=ms, and a token header (2.x/3.x)", async () => {
    const writer = new HttpLineWriter({
      url: `http://127.0.0.1:${port}/`,
      database: "cellbench",
      retentionPolicy: "raw",
      token: "s3cr3t",
    });
    expect(await writer.write("m v=1 1")).toEqual({ kind: "written", status: 204 });
    writer.close();
    const last = seen[seen.length - 1];
    expect(last?.url).toBe("/write?db=cellbench&rp=raw&precision=ms");
    expect(last?.headers.authorization).toBe("Token s3cr3t");
    expect(last?.body).toBe("m v=1 1");
  });

  it("sends username/password as HTTP Basic, never in the URL", async () => {
    const writer = new HttpLineWriter({
      url: `http://127.0.0.1:${port}`,
      database: "d",
      username: "u",
      password: "p w",
    });
    await writer.write("m v=1 1");
    writer.close();
    const last = seen[seen.length - 1];
    expect(last?.headers.authorization).toBe(`Basic ${Buffer.from("u:p w").toString("base64")}`);
    expect(last?.url).not.toMatch(/[?&](u|p)=/);
  });

  it("reports a request without answer as failed after the timeout", async () => {
    stall = true;
    const writer = new HttpLineWriter({ url: `http://127.0.0.1:${port}`, database: "d", timeoutMs: 200 });
    const started = performance.now();
    const outcome = await writer.write("m v=1 1");
    writer.close();
    stall = false;
    expect(outcome).toMatchObject({ kind: "failed", status: null });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("reports a refused connection as failed", async () => {
    const writer = new HttpLineWriter({ url: `http://127.0.0.1:${await freePort()}`, database: "d" });
    const outcome = await writer.write("m v=1 1");
    writer.close();
    expect(outcome).toMatchObject({
      kind: "failed",
      status: null,
      message: expect.stringContaining("ECONNREFUSED"),
    });
  });

  it("refuses inconsistent credentials", () => {
    expect(() => new HttpLineWriter({ url: "http://x", database: "d", token: "t", username: "u" })).toThrow(
      /either a token/,
    );
    expect(() => new HttpLineWriter({ url: "ftp://x", database: "d" })).toThrow(/http/);
  });
});

describe("HttpLineWriter against influxd with authentication", () => {
  let influxd: Influxd;
  beforeAll(async () => {
    influxd = await startInfluxd({ auth: true });
    await influxd.query("CREATE USER admin WITH PASSWORD 'pw1' WITH ALL PRIVILEGES");
    await influxd.query("CREATE DATABASE authdb", { auth: { username: "admin", password: "pw1" } });
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  it("writes with the right password and reports a wrong one as a retryable failure, not bad data", async () => {
    const good = new HttpLineWriter({
      url: influxd.url,
      database: "authdb",
      username: "admin",
      password: "pw1",
    });
    const bad = new HttpLineWriter({
      url: influxd.url,
      database: "authdb",
      username: "admin",
      password: "nope",
    });
    expect(await good.write("m v=1 1000")).toEqual({ kind: "written", status: 204 });
    expect(await bad.write("m v=2 2000")).toMatchObject({ kind: "failed", status: 401 });
    good.close();
    bad.close();
    const json = (await influxd.query("SELECT count(v) FROM m", {
      db: "authdb",
      auth: { username: "admin", password: "pw1" },
    })) as { results: { series: { values: number[][] }[] }[] };
    expect(json.results[0]?.series[0]?.values[0]?.[1]).toBe(1);
  });
});
