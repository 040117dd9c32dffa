/** Errors of the Espec driver; codes are stable. */
import { CellbenchError } from "../../protocols/cellbench-error.js";
import { canonicalLineText } from "../../protocols/scpi/line-text.js";

/**
 * What to change for each `NA:` text. The texts are those Espec's own library lists: ERROR_DESCIPTIONS
 * in github.com/EspecNorthAmerica/ChamberConnectLibrary at 1d2deb8, chamberconnectlibrary/especinteract.py:12.
 */
const HINTS: Readonly<Record<string, string>> = {
  "CMD ERR": "the controller does not know this command; check the controller model (P300, SCP-220, ES-102)",
  "ADDR ERR": "wrong RS-485 address; set options.address to the address on the controller",
  "PARA ERR": "a parameter is missing or not understood",
  "DATA OUT OF RANGE": "the value is outside what the chamber allows (see TYPE? and the TEMP? limits)",
  "PROTECT ON": "key protection is on; switch it off on the controller's front panel",
  "CHB NOT READY":
    "the chamber cannot act on this now; check its alarms and operating mode on the front panel",
  "CONT NOT READY-1": "the chamber does not support this function",
  "CONT NOT READY-3": "the controller does not support this command",
};

/** HINTS keyed by canonicalLineText: a controller may print the text in another case or spacing. */
const HINTS_BY_TEXT: ReadonlyMap<string, string> = new Map(
  Object.entries(HINTS).map(([text, hint]) => [canonicalLineText(text), hint]),
);

/** The controller answered `NA:<text>`: it refused the command and did not carry it out. */
export class EspecCommandRefusedError extends CellbenchError {
  constructor(
    deviceId: string,
    readonly command: string,
    /** The controller's own text after "NA:", e.g. "DATA OUT OF RANGE". */
    readonly deviceText: string,
  ) {
    const hint = HINTS_BY_TEXT.get(canonicalLineText(deviceText));
    super(
      "ESPEC_COMMAND_REFUSED",
      `chamber "${deviceId}" refused "${command}": NA:${deviceText}${hint ? `; ${hint}` : ""}`,
    );
  }
}

/** A reply that does not have the form the command calls for (wrong device, line noise, out of step). */
export class EspecBadReplyError extends CellbenchError {
  constructor(
    deviceId: string,
    readonly command: string,
    readonly reply: string,
    expected: string,
  ) {
    super(
      "ESPEC_BAD_REPLY",
      `chamber "${deviceId}": reply ${JSON.stringify(reply)} to "${command}" is not ${expected}; ` +
        "check that an Espec controller answers on this port (baud rate, RS-485 address)",
    );
  }
}
