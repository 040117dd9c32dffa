/** Registers the generic Modbus drivers, `modbus/temperature-inputs` (importing this module is enough). */
import { registerDriver } from "../registry.js";
import { MODBUS_TEMPERATURE_INPUTS_DRIVER, ModbusTemperatureInputs } from "./temperature-inputs.js";

registerDriver({
  name: MODBUS_TEMPERATURE_INPUTS_DRIVER,
  description:
    "Thermocouple / RTD input module on Modbus RTU or TCP (presets: Eletechsup R4DCB08, Juying DAM-PT100; or any register map)",
  simulated: false,
  create: (config, context) => new ModbusTemperatureInputs(config, context),
});
