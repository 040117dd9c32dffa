import { spawn } from "node:child_process";
import { pbkdf2 } from "node:crypto";
import { autoDetect, type BindingInterface } from "@serialport/bindings-cpp";
import { SerialPortStream } from "@serialport/stream";
import { afterEach, describe, expect, it } from "vitest";
import { createTransport } from "../../../protocols/transport/create-transport.js";
import { EventLoopBinding } from "../../../protocols/transport/event-loop-binding.js";
import type { Transport } from "../../../protocols/transport/transport.js";
import { type PtyPair, startPtyPair } from "../../support/pty-pair.js";
import { eventually } from "../../support/wait.js";
import { collectBytes } from "../support/transport-waits.js";

let pty: PtyPair | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await pty?.stop();
  pty = undefined;
});

const POOL_SIZE = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

/**
 * Fills every thread of libuv's pool with a key derivation (about half a second each on an idle
 * core) and resolves when the first of them is done.
 */
function occupyThreadPool(): Promise<void> {
  const jobs = Array.from(
    { length: POOL_SIZE },
    () =>
      new Promise<void>((resolve, reject) =>
        pbkdf2("x", "y", 1_000_000, 64, "sha512", (e) => (e ? reject(e) : resolve())),
      ),
  );
  return Promise.race(jobs);
}

/** Which of the two settles first. */
async function first(roundTrip: Promise<unknown>, pool: Promise<void>): Promise<"serial" | "pool"> {
  return Promise.race([roundTrip.then(() => "serial" as const), pool.then(() => "pool" as const)]);
}

async function openStream(binding: BindingInterface, path: string): Promise<SerialPortStream> {
  const port = new SerialPortStream({ binding, path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  cleanups.push(
    () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  );
  return port;
}

/** Resolves with what `to` receives once it has `length` bytes. */
function receive(to: SerialPortStream, length: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got < length) return;
      to.off("data", onData);
      resolve(Buffer.concat(chunks));
    };
    to.on("data", onData);
  });
}

function write(port: SerialPortStream, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => port.write(bytes, (e) => (e ? reject(e) : resolve())));
}

describe("EventLoopBinding", () => {
  it("moves a serial transport's bytes while every thread of libuv's pool is busy", async () => {
    pty = await startPtyPair();
    const a = createTransport(`serial://${pty.a}?baud=115200`);
    const b = createTransport(`serial://${pty.b}?baud=115200`);
    const transports: Transport[] = [a, b];
    cleanups.push(async () => void (await Promise.all(transports.map((t) => t.close()))));
    await Promise.all([a.open(), b.open()]);
    const atB = collectBytes(b);
    const pool = occupyThreadPool();
    const trip = (async () => {
      await a.write(Buffer.from("READ?\n"));
      return atB.until(6);
    })();
    expect(await first(trip, pool)).toBe("serial");
    expect((await trip).toString()).toBe("READ?\n");
    await pool;
  });

  it("is needed: bindings-cpp's own binding waits for the pool (the control for the case above)", async () => {
    pty = await startPtyPair();
    const stock = autoDetect();
    const [a, b] = [await openStream(stock, pty.a), await openStream(stock, pty.b)];
    const pool = occupyThreadPool();
    const trip = Promise.all([receive(b, 6), write(a, Buffer.from("READ?\n"))]).then(([got]) => got);
    expect(await first(trip, pool)).toBe("pool");
    expect((await trip).toString()).toBe("READ?\n");
  });

  it("writes more than the pty holds, waiting for room, and every byte arrives in order", async () => {
    pty = await startPtyPair();
    const a = await openStream(EventLoopBinding, pty.a);
    const b = await openStream(EventLoopBinding, pty.b);
    const bytes = Buffer.from(Array.from({ length: 256 * 1024 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
    b.pause();
    const written = write(a, bytes);
    const drained = new Promise<void>((resolve, reject) => a.drain((e) => (e ? reject(e) : resolve())));
    const received = receive(b, bytes.length);
    b.resume();
    await written;
    await drained;
    expect((await received).equals(bytes)).toBe(true);
  });

  it("leaves the event loop's other work a turn while a peer floods the port", async () => {
    pty = await startPtyPair();
    const port = await openStream(EventLoopBinding, pty.a);
    let received = 0;
    port.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    const flood = spawn("sh", ["-c", `exec cat /dev/zero > '${pty.b}'`], { stdio: "ignore" });
    cleanups.push(async () => {
      flood.kill("SIGKILL");
    });
    const waitFor = (bytes: number) =>
      eventually(
        () => received >= bytes,
        `the flood to bring ${bytes} bytes`,
        10_000,
        () => (flood.exitCode !== null ? `cat exited with ${flood.exitCode}` : undefined),
      );
    await waitFor(1024 * 1024);
    let worst = 0;
    for (let turn = 0; turn < 1000; turn++) {
      const before = received;
      await new Promise((resolve) => setImmediate(resolve));
      worst = Math.max(worst, received - before);
    }
    await waitFor(received + 1024 * 1024);
    // Between two turns of the check phase the reader runs twice at most (once on the poller, once on
    // its own yield), each time 16 KiB in a row plus one read, and Linux's tty layer hands out at most
    // 4 KiB a read. Reads without a yield took 61–296 KiB here.
    expect(worst).toBeLessThanOrEqual(40 * 1024);
  });

  it("ends a read waiting for data with serialport's canceled error when the port closes", async () => {
    pty = await startPtyPair();
    const port = await EventLoopBinding.open({ path: pty.a, baudRate: 115200 });
    const read = port.read(Buffer.alloc(64), 0, 64);
    const outcome = read.then(
      () => "read",
      (e: unknown) => e,
    );
    await port.close();
    expect(await outcome).toMatchObject({ canceled: true });
  });
});
