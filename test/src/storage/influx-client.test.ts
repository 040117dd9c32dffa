import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInfluxClient } from "../../../src/storage/influx-client.js";

describe("createInfluxClient (node-influx for schema and queries)", () => {
  let server: Server;
  let url: string;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      req.resume();
      res.setHeader("content-type", "application/json");
      res.end(
        '{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["d"]]}]}]}',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("sends a token as `Authorization: Token` and no default root:root credentials", async () => {
    expect(await createInfluxClient({ url, database: "d", token: "tok" }).getDatabaseNames()).toEqual(["d"]);
    const last = seen[seen.length - 1];
    expect(last?.headers.authorization).toBe("Token tok");
    expect(last?.url).not.toMatch(/[?&](u|p)=/);
  });

  it("sends username/password as Basic, and nothing without credentials", async () => {
    await createInfluxClient({ url, database: "d", username: "admin", password: "pw" }).getDatabaseNames();
    expect(seen[seen.length - 1]?.headers.authorization).toBe(
      `Basic ${Buffer.from("admin:pw").toString("base64")}`,
    );
    await createInfluxClient({ url, database: "d" }).getDatabaseNames();
    expect(seen[seen.length - 1]?.headers.authorization).toBeUndefined();
  });
});
