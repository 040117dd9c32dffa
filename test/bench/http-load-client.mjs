// The steadiness bench's HTTP load, in a process of its own as a real client is: `loops` requests
// to GET /api/v1/bench back to back, and one SSE stream of /api/v1/events held open and read.
// Argument: JSON { url, token, loops }. Prints "ready" once the stream is open and a request was
// answered; on SIGTERM prints one JSON line { requests, statuses, sseBytes, sseEvents } and exits.

const { url, token, loops } = JSON.parse(process.argv[2] ?? "{}");
const headers = { authorization: `Bearer ${token}` };
const statuses = {};
let requests = 0;
let sseBytes = 0;
let sseEvents = 0;
let stopping = false;
const abort = new AbortController();

async function hammer() {
  while (!stopping) {
    try {
      const res = await fetch(`${url}/api/v1/bench`, { headers, signal: abort.signal });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      requests++;
    } catch {
      // A request cut short by the end of the window is not counted.
      if (!stopping) {
        statuses.error = (statuses.error ?? 0) + 1;
        requests++;
      }
    }
  }
}

async function stream() {
  const res = await fetch(`${url}/api/v1/events`, { headers, signal: abort.signal });
  if (res.status !== 200) throw new Error(`SSE: HTTP ${res.status}`);
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      sseBytes += value.length;
      for (let i = value.indexOf(10); i >= 0; i = value.indexOf(10, i + 1))
        if (value[i + 1] === 10) sseEvents++;
    }
  } catch {
    // aborted at the end
  }
}

const sse = stream();
const first = await fetch(`${url}/api/v1/bench`, { headers });
await first.arrayBuffer();
if (first.status !== 200) throw new Error(`GET /api/v1/bench: HTTP ${first.status}`);
const workers = Array.from({ length: loops }, hammer);
process.stdout.write("ready\n");
process.on("SIGTERM", async () => {
  stopping = true;
  abort.abort();
  await Promise.allSettled([sse, ...workers]);
  process.stdout.write(`${JSON.stringify({ requests, statuses, sseBytes, sseEvents })}\n`);
  process.exit(0);
});
