/** Registers the simulated drivers `sim/cycler` and `sim/chamber` (importing this module is enough). */
import { registerDriver } from "../registry.js";
import { SIM_CHAMBER_DRIVER, SimChamberDevice } from "./sim-chamber.js";
import { SIM_CYCLER_DRIVER, SimCycler } from "./sim-cycler.js";

registerDriver({
  name: SIM_CYCLER_DRIVER,
  description: "Simulated cycler: one equivalent-circuit cell per channel, with fault knobs",
  simulated: true,
  create: (config, context) => new SimCycler(config, context),
});

registerDriver({
  name: SIM_CHAMBER_DRIVER,
  description: "Simulated thermal chamber: first-order lag with ramp limits, with fault knobs",
  simulated: true,
  create: (config, context) => new SimChamberDevice(config, context),
});
