/** Registers the ITECH driver `itech/it-m3400` (importing this module is enough). */
import { registerDriver } from "../registry.js";
import { ITECH_IT_M3400_DRIVER, ItechItM3400 } from "./itech-it-m3400.js";

registerDriver({
  name: ITECH_IT_M3400_DRIVER,
  description: "ITECH IT-M3400 bidirectional supply over SCPI (USB, LAN or serial)",
  simulated: false,
  create: (config, context) => new ItechItM3400(config, context),
});
