import type {
  Transport,
  TransportState,
  TransportStateChange,
} from "../../../protocols/transport/transport.js";

/** Resolves with the first state change to `state` (or at once if already there); rejects after `timeoutMs`. */
export function waitForState(
  transport: Transport,
  state: TransportState,
  timeoutMs = 5000,
): Promise<TransportStateChange | undefined> {
  if (transport.state === state) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      transport.off("state", onState);
      reject(
        new Error(
          `${transport.url} did not reach "${state}" within ${timeoutMs} ms (now ${transport.state})`,
        ),
      );
    }, timeoutMs);
    const onState = (change: TransportStateChange) => {
      if (change.state !== state) return;
      clearTimeout(timer);
      transport.off("state", onState);
      resolve(change);
    };
    transport.on("state", onState);
  });
}

/** Collects every byte a transport receives. */
export function collectBytes(transport: Transport): {
  bytes(): Buffer;
  until(length: number, timeoutMs?: number): Promise<Buffer>;
} {
  const chunks: Buffer[] = [];
  const waiters: Array<() => void> = [];
  transport.on("data", (chunk) => {
    chunks.push(chunk);
    for (const wake of waiters.splice(0)) wake();
  });
  const bytes = () => Buffer.concat(chunks);
  return {
    bytes,
    until: async (length, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (bytes().length < length) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`received ${bytes().length} of ${length} bytes within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return bytes();
    },
  };
}

/** Records the sequence of states a transport goes through. */
export function recordStates(transport: Transport): TransportState[] {
  const states: TransportState[] = [];
  transport.on("state", (change) => states.push(change.state));
  return states;
}
