/**
 * The daemon's API as the live page uses it: the token (kept in sessionStorage, or localStorage when
 * the user asks to be remembered), JSON requests that throw ApiError with the problem details, and
 * the bench-wide event stream (a stream ticket when the page has a token; EventSource sends no headers).
 */

const TOKEN_KEY = "cellbench.token";

/** An answer other than 2xx: its status and problem details (code, detail, issues). */
export class ApiError extends Error {
  constructor(status, problem) {
    const issues = Array.isArray(problem?.issues)
      ? problem.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
      : [];
    const detail = problem?.detail ?? `HTTP ${status}`;
    super(issues.length > 1 ? `${detail}\n${issues.join("\n")}` : detail);
    this.status = status;
    this.code = problem?.code;
  }
}

let token = sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY) ?? undefined;

export const tokens = {
  get present() {
    return token !== undefined;
  },
  set(value, remember) {
    token = value;
    sessionStorage.setItem(TOKEN_KEY, value);
    if (remember) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
  clear() {
    token = undefined;
    sessionStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_KEY);
  },
};

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; a bench PC may be plain http). */
function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Calls the API; resolves to the JSON body (null for 204), rejects with ApiError. */
export async function api(path, { method = "GET", body, idempotent = false } = {}) {
  const headers = { accept: "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  if (idempotent) headers["idempotency-key"] = randomKey();
  const response = await fetch(path, {
    method,
    headers,
    cache: "no-store",
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status === 204) return null;
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) throw new ApiError(response.status, json ?? { detail: text || response.statusText });
  return json;
}

/**
 * Follows GET /api/v1/events: `handlers` by event type get the parsed data; `status` gets "live",
 * "reconnecting" or "down". EventSource reconnects by itself (Last-Event-ID); when it gives up (a
 * stream ticket expired, the daemon restarted) a new stream is opened after a pause.
 */
export function followEvents(handlers, status) {
  let source;
  let timer;
  const reopen = () => {
    source?.close();
    status("down");
    clearTimeout(timer);
    timer = setTimeout(() => void open(), 3000);
  };
  const open = async () => {
    let url = "/api/v1/events";
    try {
      if (token !== undefined) {
        const issued = await api("/api/v1/stream-tickets", { method: "POST" });
        url += `?ticket=${encodeURIComponent(issued.ticket)}`;
      }
    } catch {
      reopen();
      return;
    }
    source = new EventSource(url);
    source.onopen = () => status("live");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) reopen();
      else status("reconnecting");
    };
    for (const [type, handle] of Object.entries(handlers))
      source.addEventListener(type, (e) => handle(JSON.parse(e.data)));
  };
  void open();
  return () => {
    clearTimeout(timer);
    source?.close();
  };
}
