/**
 * What answers at an InfluxDB URL (InfluxDB, nothing, or another program), and whether the URL is
 * one a private influxd may take.
 */
import http from "node:http";
import https from "node:https";

/** What answers at an InfluxDB URL. */
export type InfluxProbe =
  | { kind: "influxdb"; version: string }
  /** Connection refused: nothing listens there. */
  | { kind: "nothing" }
  /** Something listens that is not InfluxDB; `what` describes it. */
  | { kind: "other"; what: string }
  /** No connection for another reason (host unreachable, name not resolved). */
  | { kind: "unreachable"; error: string };

/** Asks `${url}/ping` once, with a deadline; InfluxDB 1.x and 2.x answer with an X-Influxdb-Version header. */
export function probeInflux(url: string, timeoutMs = 1000): Promise<InfluxProbe> {
  return new Promise((done) => {
    const ping = `${url.replace(/\/+$/, "")}/ping`;
    let req: http.ClientRequest;
    try {
      req = (ping.startsWith("https:") ? https.get : http.get)(ping, { agent: false }, (res) => {
        res.resume();
        const version = res.headers["x-influxdb-version"];
        if (typeof version === "string") return finish({ kind: "influxdb", version });
        const server = res.headers.server;
        finish({
          kind: "other",
          what: `it answers HTTP ${res.statusCode}${typeof server === "string" ? ` as "${server}"` : ""} without an X-Influxdb-Version header`,
        });
      });
    } catch (err) {
      done({ kind: "unreachable", error: (err as Error).message });
      return;
    }
    const timer = setTimeout(() => {
      if (req.socket && !req.socket.connecting)
        finish({
          kind: "other",
          what: `it accepts connections but gives no HTTP answer within ${timeoutMs} ms`,
        });
      else finish({ kind: "unreachable", error: `no connection within ${timeoutMs} ms` });
    }, timeoutMs);
    let settled = false;
    function finish(probe: InfluxProbe): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      done(probe);
    }
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED") finish({ kind: "nothing" });
      else if (err.code === "ECONNRESET" || err.code?.startsWith("HPE_"))
        finish({ kind: "other", what: `it accepts connections but does not speak HTTP (${err.code})` });
      else finish({ kind: "unreachable", error: err.code ? `${err.code}: ${err.message}` : err.message });
    });
  });
}

/**
 * The address a private influxd may take for `url`: an http:// URL without a path on a loopback
 * host (127.0.0.0/8, ::1, localhost). Undefined for anything else.
 */
export function loopbackAddress(url: string): { host: string; port: number } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" || !(parsed.pathname === "/" || parsed.pathname === "")) return undefined;
  const port = parsed.port === "" ? 80 : Number(parsed.port);
  const host = parsed.hostname;
  if (host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))
    return { host: host === "localhost" ? "127.0.0.1" : host, port };
  if (host === "[::1]") return { host, port };
  return undefined;
}
