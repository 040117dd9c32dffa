/** Registers the Watlow chamber drivers `watlow/f4` and `watlow/f4t` (importing this module is enough). */
import { registerDriver } from "../registry.js";
import { WATLOW_F4_DRIVER, WatlowF4 } from "./watlow-f4.js";
import { WATLOW_F4T_DRIVER, WatlowF4t } from "./watlow-f4t.js";

registerDriver({
  name: WATLOW_F4_DRIVER,
  description: "Watlow Series F4 chamber controller, Modbus RTU (16-bit scaled registers)",
  simulated: false,
  create: (config, context) => new WatlowF4(config, context),
});

registerDriver({
  name: WATLOW_F4T_DRIVER,
  description: "Watlow F4T chamber controller, Modbus TCP (floats, low word first), one loop",
  simulated: false,
  create: (config, context) => new WatlowF4t(config, context),
});
