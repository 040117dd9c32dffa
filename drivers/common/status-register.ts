/**
 * Reading an instrument's SCPI status register (`STAT:QUES:COND?` and the like): a whole number
 * from 0 to 65535, as IEEE 488.2 registers are 16 bits wide.
 */
import { ScpiReplyError } from "../../protocols/index.js";
import type { CyclerScpi } from "./scpi-cycler-device.js";

/** Queries a 16-bit status register; throws SCPI_BAD_REPLY when the reply is not one. */
export async function queryStatusRegister(scpi: CyclerScpi, query: string): Promise<number> {
  const reply = await scpi.query(query);
  const value = Number(reply.trim());
  if (!Number.isInteger(value) || value < 0 || value > 0xffff)
    throw new ScpiReplyError(reply, "is not a status register value (a whole number 0 to 65535)", query);
  return value;
}
