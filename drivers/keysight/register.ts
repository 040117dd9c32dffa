/** Registers the Keysight driver `keysight/daq970a` (importing this module is enough). */
import { registerDriver } from "../registry.js";
import { KEYSIGHT_DAQ970A_DRIVER, KeysightDaq970a } from "./keysight-daq970a.js";

registerDriver({
  name: KEYSIGHT_DAQ970A_DRIVER,
  description: "Keysight DAQ970A / 34970A thermocouple inputs over SCPI (LAN port 5025, USB or serial)",
  simulated: false,
  create: (config, context) => new KeysightDaq970a(config, context),
});
