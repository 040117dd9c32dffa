/** Registers the Espec chamber driver `espec/p300` (importing this module is enough). */
import { registerDriver } from "../registry.js";
import { ESPEC_P300_DRIVER, EspecP300 } from "./espec-p300.js";

registerDriver({
  name: ESPEC_P300_DRIVER,
  description: "Espec chamber, P300 / SCP-220 / ES-102 ASCII protocol over serial or TCP 10001",
  simulated: false,
  create: (config, context) => new EspecP300(config, context),
});
