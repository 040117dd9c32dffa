import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createInfluxClient, createInfluxQuery, serverAnswered } from "../../../src/storage/influx-client.js";
import { freePort } from "../../support/influxd.js";

const DATABASES =
  '{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["d"]]}]}]}';

describe("createInfluxClient (node-influx for schema and queries)", () => {
  let server: Server;
  let url: string;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let answer: (res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      req.resume();
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  beforeEach(() => {
    answer = (res) => {
      res.setHeader("content-type", "application/json");
      res.end(DATABASES);
    };
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("sends a token as `Authorization: Token` and no default root:root credentials", async () => {
    const influx = createInfluxClient({ url, database: "d", token: "tok" });
    expect(await influx.getDatabaseNames()).toEqual(["d"]);
    const last = seen[seen.length - 1];
    expect(last?.headers.authorization).toBe("Token tok");
    expect(last?.url).not.toMatch(/[?&](u|p)=/);
    await influx.ping(1000);
    expect(seen[seen.length - 1]?.headers.authorization).toBe("Token tok");
  });

  it("sends username/password as Basic, and nothing without credentials", async () => {
    await createInfluxClient({ url, database: "d", username: "admin", password: "pw" }).getDatabaseNames();
    expect(seen[seen.length - 1]?.headers.authorization).toBe(
      `Basic ${Buffer.from("admin:pw").toString("base64")}`,
    );
    await createInfluxClient({ url, database: "d" }).getDatabaseNames();
    expect(seen[seen.length - 1]?.headers.authorization).toBeUndefined();
  });

  it("sends a username without password as `user:`, not with node-influx's default password root", async () => {
    await createInfluxClient({ url, database: "d", username: "reader" }).getDatabaseNames();
    expect(seen[seen.length - 1]?.headers.authorization).toBe(
      `Basic ${Buffer.from("reader:").toString("base64")}`,
    );
  });

  it("tells an answer of InfluxDB (an HTTP 4xx, an InfluxQL error) from no answer", async () => {
    const influx = createInfluxClient({ url, database: "d", username: "admin", password: "wrong" });
    answer = (res) => {
      res.statusCode = 401;
      res.end('{"error":"authorization failed"}');
    };
    const refused = await influx.getDatabaseNames().catch((err: unknown) => err);
    expect((refused as Error).message).toContain("authorization failed");
    expect(serverAnswered(refused)).toBe(true);

    answer = (res) => {
      res.setHeader("content-type", "application/json");
      res.end('{"results":[{"statement_id":0,"error":"database not found: d"}]}');
    };
    const failed = await influx.query("SELECT * FROM m").catch((err: unknown) => err);
    expect((failed as Error).message).toContain("database not found");
    expect(serverAnswered(failed)).toBe(true);

    const down = createInfluxClient({ url: `http://127.0.0.1:${await freePort()}`, database: "d" });
    const unreachable = await down.getDatabaseNames().catch((err: unknown) => err);
    expect(unreachable).toBeInstanceOf(Error);
    expect(serverAnswered(unreachable)).toBe(false);
  });

  it("goes by node-influx's classes, not by names another library's errors may share", () => {
    class RequestError extends Error {}
    class ResultError extends Error {}
    expect(serverAnswered(new RequestError("socket hang up"))).toBe(false);
    expect(serverAnswered(new ResultError("parse failed"))).toBe(false);
    expect(serverAnswered(new Error("A 401 Unauthorized error occurred"))).toBe(false);
    expect(serverAnswered(null)).toBe(false);
  });
});

describe("createInfluxQuery (the export's abortable query)", () => {
  let server: Server;
  let url: string;
  /** Called once the server has handed the whole answer to the socket. */
  let sent: () => void = () => undefined;
  // A page as InfluxDB 1.6 answers it: gzip, chunked, the compressed body in two writes.
  const page = JSON.stringify({
    results: [{ statement_id: 0, series: [{ name: "cell", columns: ["time", "v"], values: [] }] }],
  }).replace("[]", JSON.stringify(Array.from({ length: 2_000 }, (_, i) => [i, i * 2.5])));
  const gzipped = gzipSync(page);

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.write(gzipped.subarray(0, 100));
      setTimeout(() => {
        res.end(gzipped.subarray(100));
        res.once("finish", () => sent());
      }, 5);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("ends with the abort when aborted while a gzip answer is being inflated (Node's text() never did)", async () => {
    const query = createInfluxQuery({ url, database: "d" });
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const abort = new AbortController();
      // Just after the last bytes reached the socket: fetch has the body, and inflates it.
      sent = () => setImmediate(() => abort.abort());
      const answer = query("SELECT * FROM cell", { database: "d", signal: abort.signal }).then(
        (text) => (text === page ? "answered" : "garbled"),
        (err: Error) => err.name,
      );
      let timer: NodeJS.Timeout | undefined;
      const pending = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve("pending after 2 s"), 2_000);
      });
      outcomes.push(await Promise.race([answer, pending]));
      clearTimeout(timer);
    }
    expect(outcomes.filter((o) => o !== "AbortError" && o !== "answered")).toEqual([]);
  });

  it("answers the whole page when not aborted", async () => {
    sent = () => undefined;
    const text = await createInfluxQuery({ url, database: "d" })("SELECT * FROM cell", { database: "d" });
    expect(JSON.parse(text)).toEqual(JSON.parse(page));
  });
});
