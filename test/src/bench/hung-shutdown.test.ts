/** A daemon whose instrument hangs mid-call still shuts down: safe state for the rest, outbox flushed. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../../drivers/clock.js";
import { loadConfig } from "../../../src/config/load-config.js";
import { Daemon } from "../../../src/daemon.js";
import { never, RESTING, registerScriptedCycler } from "../../support/scripted-cycler.js";

const scratch = mkdtempSync(join(tmpdir(), "cellbench-hung-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A cycler whose every call hangs once `hang` is set (an instrument stuck mid-reply). */
const state = { hang: false };
const orHang = <T>(value: T) => (state.hang ? never() : Promise.resolve(value));
registerScriptedCycler("test/hanging-everything", "h1", {
  apply: () => orHang(undefined),
  read: () => orHang({ ...RESTING }),
  toSafeState: () => orHang(undefined),
  close: () => orHang(undefined),
});

describe("shutdown with an instrument that hangs", () => {
  it("finishes, every step bounded, and puts the other devices in safe state", async () => {
    const path = join(scratch, "bench.yaml");
    writeFileSync(
      path,
      [
        "bench: hung",
        `store: ${join(scratch, "bench.db")}`,
        "sampling: { period: 100 ms }",
        "devices:",
        "  - { id: hang1, driver: test/hanging-everything, channels: [h1] }",
        "  - { id: tc1, driver: sim/chamber, options: { initialC: 25 } }",
        "chambers: [{ id: tc1, device: tc1, channels: [h1] }]",
        "",
      ].join("\n"),
    );
    const daemon = await Daemon.start({
      config: loadConfig(path, {}),
      logger: pino({ level: "silent" }),
      clock: new VirtualClock({ auto: true, wallOriginMs: Date.now() }),
      http: false,
    });
    const chamber = daemon.bench.chambers.get("tc1")!.chamber;
    let chamberSafe = 0;
    const toSafeState = chamber.toSafeState.bind(chamber);
    chamber.toSafeState = () => {
      chamberSafe++;
      return toSafeState();
    };
    state.hang = true;
    await daemon.bench.clock.sleepUntil(daemon.bench.clock.now() + 1000);
    // Without bounds this never returns (the poller waits for its hung tick); the test's timeout would end it.
    await daemon.stop({ drainTimeoutMs: 0 });
    expect(chamberSafe).toBe(1);
    state.hang = false;
  }, 30_000);
});
