import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { loopbackAddress, probeInflux } from "../../../src/storage/influx-probe.js";
import { freePort, startInfluxd } from "../../support/influxd.js";

describe("probeInflux", () => {
  it("tells InfluxDB, a free port and another program apart", async () => {
    const influxd = await startInfluxd();
    try {
      expect(await probeInflux(influxd.url)).toMatchObject({
        kind: "influxdb",
        version: expect.stringMatching(/^1\./),
      });
    } finally {
      await influxd.stop();
    }
    expect(await probeInflux(`http://127.0.0.1:${await freePort()}`)).toEqual({ kind: "nothing" });
    const web = createHttpServer((_req, res) => res.end("hello"));
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    try {
      const { port } = web.address() as { port: number };
      expect(await probeInflux(`http://127.0.0.1:${port}`)).toEqual({
        kind: "other",
        what: "it answers HTTP 200 without an X-Influxdb-Version header",
      });
    } finally {
      await new Promise((r) => web.close(r));
    }
  });

  it("names a port held by a program that does not speak HTTP", async () => {
    // Reads what it gets (so that it sees the probe hang up) and never answers.
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const { port } = silent.address() as { port: number };
      expect(await probeInflux(`http://127.0.0.1:${port}`, 200)).toEqual({
        kind: "other",
        what: "it accepts connections but gives no HTTP answer within 200 ms",
      });
    } finally {
      await new Promise((r) => silent.close(r));
    }
  });
});

describe("loopbackAddress", () => {
  it("accepts loopback http:// URLs without a path only", () => {
    expect(loopbackAddress("http://127.0.0.1:8086")).toEqual({ host: "127.0.0.1", port: 8086 });
    expect(loopbackAddress("http://127.1.2.3:8086")).toEqual({ host: "127.1.2.3", port: 8086 });
    expect(loopbackAddress("http://localhost:8086/")).toEqual({ host: "127.0.0.1", port: 8086 });
    expect(loopbackAddress("http://[::1]:9999")).toEqual({ host: "[::1]", port: 9999 });
    expect(loopbackAddress("https://127.0.0.1:8086")).toBeUndefined();
    expect(loopbackAddress("http://influx.lab:8086")).toBeUndefined();
    expect(loopbackAddress("http://10.0.0.5:8086")).toBeUndefined();
    expect(loopbackAddress("http://127.0.0.1:8086/influx")).toBeUndefined();
    expect(loopbackAddress("not a url")).toBeUndefined();
  });
});
