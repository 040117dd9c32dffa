/** Registers the Elektro-Automatik drivers `ea/psb-scpi` and `ea/psb-modbus` (importing this module is enough). */
import { registerDriver } from "../registry.js";
import { EA_PSB_MODBUS_DRIVER, EaPsbModbus } from "./ea-psb-modbus.js";
import { EA_PSB_SCPI_DRIVER, EaPsbScpi } from "./ea-psb-scpi.js";

registerDriver({
  name: EA_PSB_SCPI_DRIVER,
  description: "Elektro-Automatik PSB 10000 bidirectional supply over SCPI (USB, Ethernet or serial)",
  simulated: false,
  create: (config, context) => new EaPsbScpi(config, context),
});

registerDriver({
  name: EA_PSB_MODBUS_DRIVER,
  description: "Elektro-Automatik PSB 10000 bidirectional supply over Modbus RTU or TCP",
  simulated: false,
  create: (config, context) => new EaPsbModbus(config, context),
});
