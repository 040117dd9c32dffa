import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../../drivers/clock.js";
import { createDevice, driverInfo, registeredDrivers } from "../../../drivers/registry.js";
import "../../../drivers/sim/register.js";

describe("sim driver registration", () => {
  it("registers sim/cycler and sim/chamber as simulated drivers", () => {
    const names = registeredDrivers().map((d) => d.name);
    expect(names).toContain("sim/cycler");
    expect(names).toContain("sim/chamber");
    expect(driverInfo("sim/cycler").simulated).toBe(true);
    expect(driverInfo("sim/chamber").simulated).toBe(true);
  });

  it("creates devices that report their driver and capabilities", async () => {
    const context = { clock: new VirtualClock(), chamberOfChannel: () => undefined };
    const cycler = createDevice({ id: "c", driver: "sim/cycler", channels: ["ch1", "ch2"] }, context);
    const chamber = createDevice({ id: "t", driver: "sim/chamber" }, context);
    expect(cycler.driver).toBe("sim/cycler");
    expect(cycler.channels.map((c) => c.id)).toEqual(["ch1", "ch2"]);
    expect(cycler.chamber).toBeUndefined();
    expect(chamber.driver).toBe("sim/chamber");
    expect(chamber.channels).toHaveLength(0);
    expect(chamber.chamber?.id).toBe("t");
    await cycler.connect();
    await chamber.connect();
    expect(await cycler.channels[1]?.read()).toMatchObject({ currentA: 0 });
    expect(await chamber.chamber?.read()).toMatchObject({ temperatureC: 22 });
  });
});
