// The exports attack's clients, in a process of their own as real clients are: their reading and
// garbage must not count against the daemon's loop. Argument: JSON { url, path, first, rest } with
// `first` tokens started together (awaiting their status), then `rest` tokens all at once.
// Prints one JSON array of outcomes { status, rows, code, detail, retryAfter, ms }.

import { readdirSync } from "node:fs";
import { setPriority } from "node:os";

// Forked by a test process whose sampling loop runs at raised priority, these clients would inherit it
// and outrank everything else on the host: a client runs at normal priority, on every thread (Linux
// nice values are per thread).
for (const tid of readdirSync("/proc/self/task")) {
  try {
    setPriority(Number(tid), 0);
  } catch {
    // that thread has ended
  }
}

const { url, path, first, rest } = JSON.parse(process.argv[2] ?? "{}");

async function startExport(token) {
  const started = Date.now();
  const res = await fetch(`${url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(90_000),
  });
  const retryAfter = res.headers.get("retry-after");
  const outcome = async () => {
    if (res.status !== 200) {
      const body = await res.json();
      return { status: res.status, rows: 0, ...body, retryAfter, ms: Date.now() - started };
    }
    let lines = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let i = value.indexOf(10); i >= 0; i = value.indexOf(10, i + 1)) lines++;
    }
    return { status: 200, rows: lines - 1, retryAfter, ms: Date.now() - started };
  };
  return { status: res.status, outcome: outcome() };
}

const firstOnes = await Promise.all(first.map(startExport));
const others = await Promise.all(rest.map(startExport));
const outcomes = await Promise.all([...firstOnes, ...others].map((e) => e.outcome));
process.stdout.write(JSON.stringify(outcomes));
