import { describe, expect, it } from "vitest";
import type { LinkEvent } from "../../../drivers/capabilities.js";
import { VirtualClock } from "../../../drivers/clock.js";
import { type DeviceLinkStatus, DeviceLinks } from "../../../src/bench/device-links.js";

describe("DeviceLinks", () => {
  const url = "serial:///dev/ttyUSB0?baud=19200";

  it("counts drops and take-overs per device, keeps the reason while down, and passes every event on", async () => {
    const clock = new VirtualClock({ wallOriginMs: Date.UTC(2026, 10, 25) });
    const seen: Array<[string, LinkEvent["kind"], DeviceLinkStatus["state"]]> = [];
    const links = new DeviceLinks(clock, (id, event, status) => seen.push([id, event.kind, status.state]));
    expect(links.of("psb1")).toEqual({
      state: "up",
      sinceWallMs: undefined,
      reason: undefined,
      losses: 0,
      reconnects: 0,
    });

    await clock.advanceBy(1000);
    links.report("psb1", { kind: "lost", transport: url, reason: "device node vanished" });
    expect(links.of("psb1")).toEqual({
      state: "down",
      sinceWallMs: Date.UTC(2026, 10, 25) + 1000,
      reason: "device node vanished",
      losses: 1,
      reconnects: 0,
    });
    links.report("psb1", { kind: "unusable", transport: url, reason: "wrong *IDN?" });
    expect(links.of("psb1")).toMatchObject({ state: "unusable", reason: "wrong *IDN?", losses: 1 });
    await clock.advanceBy(500);
    links.report("psb1", { kind: "restored", transport: url });
    expect(links.of("psb1")).toEqual({
      state: "up",
      sinceWallMs: Date.UTC(2026, 10, 25) + 1500,
      reason: undefined,
      losses: 1,
      reconnects: 1,
    });
    expect(links.of("tc1").state).toBe("up");
    expect(seen).toEqual([
      ["psb1", "lost", "down"],
      ["psb1", "unusable", "unusable"],
      ["psb1", "restored", "up"],
    ]);
  });
});
