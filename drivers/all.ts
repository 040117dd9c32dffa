/** Registers every driver cellbench ships; import once at start-up. */
import "./sim/register.js";
import "./ea/register.js";
import "./itech/register.js";
import "./watlow/register.js";
import "./espec/register.js";
import "./keysight/register.js";
import "./modbus/register.js";
