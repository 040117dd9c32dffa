import { TransportUrlError } from "./transport-errors.js";

export type SerialParity = "none" | "even" | "odd" | "mark" | "space";

interface SpecBase {
  /** Canonical URL: the input with defaults filled in and parameters in a fixed order. */
  readonly url: string;
  /** Query parameters meant for the device, not the transport (e.g. `unit`), as written. */
  readonly deviceParams: Readonly<Record<string, string>>;
}

export interface SerialTransportSpec extends SpecBase {
  readonly kind: "serial";
  readonly path: string;
  readonly baudRate: number;
  readonly parity: SerialParity;
  readonly dataBits: 5 | 6 | 7 | 8;
  readonly stopBits: 1 | 1.5 | 2;
  readonly rtscts: boolean;
}

export interface TcpTransportSpec extends SpecBase {
  readonly kind: "tcp";
  readonly host: string;
  readonly port: number;
}

export interface MemoryTransportSpec extends SpecBase {
  readonly kind: "memory";
  readonly name: string;
}

export type TransportSpec = SerialTransportSpec | TcpTransportSpec | MemoryTransportSpec;

export interface ParseTransportUrlOptions {
  /** Query parameters passed through to the device instead of being rejected. Default `["unit"]`. */
  deviceParams?: readonly string[];
}

const SERIAL_PARAMS = ["baud", "parity", "dataBits", "stopBits", "rtscts"] as const;
const PARITIES: readonly SerialParity[] = ["none", "even", "odd", "mark", "space"];
const ALIASES: Record<string, string> = {
  baudrate: "baud",
  speed: "baud",
  bitrate: "baud",
  bits: "dataBits",
  data_bits: "dataBits",
  databit: "dataBits",
  stop: "stopBits",
  stop_bits: "stopBits",
  stopbit: "stopBits",
  flowcontrol: "rtscts",
};

/**
 * Parses a transport URL:
 * - `serial:///dev/serial/by-id/...?baud=19200&parity=none&dataBits=8&stopBits=1[&rtscts=false]`
 *   (baud is required; parity, data bits and stop bits default to 8N1),
 * - `tcp://host:port` (port required),
 * - `memory://name` (an in-process pair created with `createMemoryPair({ name })`).
 * Throws TransportUrlError naming what to change.
 */
export function parseTransportUrl(url: string, options: ParseTransportUrlOptions = {}): TransportSpec {
  const trimmed = url.trim();
  if (/^(\/dev\/|COM\d+$)/i.test(trimmed))
    throw new TransportUrlError(url, `a bare port name is not a URL; write serial://${trimmed}?baud=9600`);
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new TransportUrlError(
      url,
      "not a URL; use serial:///dev/serial/by-id/<name>?baud=<rate>, tcp://<host>:<port> or memory://<name>",
    );
  }
  const query = readQuery(url, parsed, options.deviceParams ?? ["unit"]);
  switch (parsed.protocol) {
    case "serial:":
      return parseSerial(url, parsed, query);
    case "tcp:":
      return parseTcp(url, parsed, query);
    case "memory:":
      return parseMemory(url, parsed, query);
    default:
      throw new TransportUrlError(
        url,
        `unknown scheme "${parsed.protocol.replace(/:$/, "")}"; use serial://, tcp:// or memory://`,
      );
  }
}

interface Query {
  transport: Map<string, string>;
  device: Record<string, string>;
}

function readQuery(url: string, parsed: URL, deviceNames: readonly string[]): Query {
  const known: readonly string[] = parsed.protocol === "serial:" ? SERIAL_PARAMS : [];
  const transport = new Map<string, string>();
  const device: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [rawName, value] of parsed.searchParams) {
    const canonical = known.find((k) => k.toLowerCase() === rawName.toLowerCase());
    const deviceName = deviceNames.find((k) => k.toLowerCase() === rawName.toLowerCase());
    const name = canonical ?? deviceName;
    if (name === undefined) {
      const alias = ALIASES[rawName.toLowerCase()];
      const suggestion =
        alias && known.includes(alias)
          ? `write "${alias}" instead`
          : `allowed: ${[...known, ...deviceNames].join(", ") || "none"}`;
      throw new TransportUrlError(
        url,
        `unknown parameter "${rawName}" for ${parsed.protocol}// URLs; ${suggestion}`,
      );
    }
    if (seen.has(name)) throw new TransportUrlError(url, `parameter "${name}" is given twice; keep one`);
    seen.add(name);
    if (canonical !== undefined) transport.set(canonical, value);
    else device[name] = value;
  }
  return { transport, device };
}

function parseSerial(url: string, parsed: URL, query: Query): SerialTransportSpec {
  let path: string;
  if (parsed.host !== "") {
    if (/^COM\d+$/i.test(parsed.host) && (parsed.pathname === "" || parsed.pathname === "/")) {
      path = parsed.host.toUpperCase();
    } else {
      throw new TransportUrlError(
        url,
        `"${parsed.host}" was read as a host name; serial URLs take an absolute path after three slashes, e.g. serial:///${parsed.host}${parsed.pathname}`,
      );
    }
  } else {
    path = decodeURIComponent(parsed.pathname);
    if (!path.startsWith("/") || path === "/")
      throw new TransportUrlError(
        url,
        "missing device path; write serial:///dev/serial/by-id/<name>?baud=<rate>",
      );
  }
  const baudText = query.transport.get("baud");
  if (baudText === undefined)
    throw new TransportUrlError(
      url,
      "missing baud rate; add ?baud=<rate> as set on the instrument (e.g. ?baud=19200)",
    );
  const baudRate = Number(baudText);
  if (!Number.isInteger(baudRate) || baudRate <= 0)
    throw new TransportUrlError(
      url,
      `baud must be a positive integer such as 9600 or 115200, got "${baudText}"`,
    );
  const parityText = (query.transport.get("parity") ?? "none").toLowerCase();
  const parity = PARITIES.find((p) => p === parityText || p[0] === parityText);
  if (parity === undefined)
    throw new TransportUrlError(url, `parity must be one of ${PARITIES.join(", ")}, got "${parityText}"`);
  const dataBits = Number(query.transport.get("dataBits") ?? "8");
  if (dataBits !== 5 && dataBits !== 6 && dataBits !== 7 && dataBits !== 8)
    throw new TransportUrlError(
      url,
      `dataBits must be 5, 6, 7 or 8, got "${query.transport.get("dataBits")}"`,
    );
  const stopBits = Number(query.transport.get("stopBits") ?? "1");
  if (stopBits !== 1 && stopBits !== 1.5 && stopBits !== 2)
    throw new TransportUrlError(
      url,
      `stopBits must be 1, 1.5 or 2, got "${query.transport.get("stopBits")}"`,
    );
  const rtsctsText = (query.transport.get("rtscts") ?? "false").toLowerCase();
  if (rtsctsText !== "true" && rtsctsText !== "false")
    throw new TransportUrlError(url, `rtscts must be true or false, got "${rtsctsText}"`);
  const rtscts = rtsctsText === "true";
  const canonical =
    `serial://${path.startsWith("/") ? encodeURI(path) : path}?baud=${baudRate}&parity=${parity}&dataBits=${dataBits}&stopBits=${stopBits}` +
    (rtscts ? "&rtscts=true" : "") +
    deviceQuery(query.device, "&");
  return {
    kind: "serial",
    url: canonical,
    deviceParams: query.device,
    path,
    baudRate,
    parity,
    dataBits,
    stopBits,
    rtscts,
  };
}

function parseTcp(url: string, parsed: URL, query: Query): TcpTransportSpec {
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "")
    throw new TransportUrlError(url, "missing host; write tcp://<host>:<port>, e.g. tcp://192.168.1.20:502");
  if (parsed.port === "")
    throw new TransportUrlError(
      url,
      `missing port; write tcp://${parsed.hostname}:<port> (502 for Modbus TCP, 5025 for SCPI raw sockets)`,
    );
  if (parsed.pathname !== "" && parsed.pathname !== "/")
    throw new TransportUrlError(url, `tcp URLs take no path; remove "${parsed.pathname}"`);
  const port = Number(parsed.port);
  return {
    kind: "tcp",
    url: `tcp://${parsed.hostname}:${port}${deviceQuery(query.device, "?")}`,
    deviceParams: query.device,
    host,
    port,
  };
}

function parseMemory(url: string, parsed: URL, query: Query): MemoryTransportSpec {
  const name = parsed.host;
  if (!/^[A-Za-z0-9._-]+$/.test(name) || (parsed.pathname !== "" && parsed.pathname !== "/"))
    throw new TransportUrlError(url, "memory URLs are memory://<name> with letters, digits, '.', '_' or '-'");
  return {
    kind: "memory",
    url: `memory://${name}${deviceQuery(query.device, "?")}`,
    deviceParams: query.device,
    name,
  };
}

function deviceQuery(params: Record<string, string>, lead: "?" | "&"): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return "";
  return lead + entries.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
}
