/**
 * Emulated Espec P300 controller (also what SCP-220 / ES-102 answer to these commands): ASCII lines
 * ending in CR LF both ways, over a serial line (9600 8N1) or TCP (port 10001 on the real chamber).
 * Written from Espec North America's library (github.com/EspecNorthAmerica/ChamberConnectLibrary at
 * 1d2deb8: chamberconnectlibrary/especinteract.py for the line format, the RS-485 `<address>,` prefix,
 * port 10001 and the NA: texts; chamberconnectlibrary/p300.py for TYPE?, TEMP?, MON?, MODE?,
 * `TEMP, S<value>` and `MODE,<mode>`) and shared/reference/instruments.md (the `OK:<command>` echo,
 * which the library never reads), not from the driver. The air follows the chamber physics on a
 * clock: CONSTANT regulates to the set point; STANDBY and OFF leave the air drifting to the room.
 * Link timing models the wire only (10 bits a character); `turnaroundMs` adds a device latency, for
 * which no published figure exists.
 *
 * Options (all optional):
 *   address: none        RS-485 address; when set, only commands prefixed "<address>," are answered
 *   mode: "STANDBY"      operating mode at start (OFF, STANDBY, CONSTANT)
 *   setpointC: 25        constant set point at start
 *   alarmLimitsC: rangeC the HIGH / LOW fields of TEMP? (set points outside are refused)
 *   typeReply: "T,S2,<rangeC max>"   the reply to TYPE? (maximum temperature last; any spacing, e.g.
 *                        "T, S2, 160.0", is sent as given)
 *   protect: false       key protection on: settings answer NA:PROTECT ON
 *   echoSpacing: "as-sent"   spacing of the OK: echo: "as-sent" (the manual's examples, `OK:TEMP, S25.0`)
 *                        or "compact", every blank dropped (`OK:TEMP,S28.0` for `TEMP, S28.0`, as a
 *                        controller in the field answers, cellbench issue 9)
 *   echoCase: "as-sent"  case of the OK: echo: "as-sent", "upper" or "lower"
 *   initialC, ambientC, rangeC       the air (as sim/chamber)
 *   linkTiming: false    delay replies by the characters' time at the serial baud rate (10 bits each)
 *   baud: 9600           baud rate for link timing when the listen address names none
 *   turnaroundMs: 0      extra reply latency under link timing
 *   faults: { timeout, garbage: { bytes }, na: { text }, lateReply: { delayMs }, disconnect: { forMs } }
 */
import { SystemClock } from "../clock.js";
import { AsciiLineLink, type ReceivedLine } from "./ascii-line-link.js";
import { EmulatedChamber } from "./emulated-chamber.js";
import { FaultDeck, type FaultRate, type KnobParams } from "./emulator-faults.js";
import { OptionReader } from "./emulator-options.js";
import { readLinkTiming } from "./link-timing.js";
import type { EmulatorStartOptions, RunningEmulator } from "./registry.js";

export const ESPEC_P300_EMULATOR = "espec/p300";

export type EspecMode = "OFF" | "STANDBY" | "CONSTANT" | "RUN";
const SETTABLE_MODES: readonly EspecMode[] = ["OFF", "STANDBY", "CONSTANT"];

/** How the `OK:` echo spaces the command it repeats. */
export type EspecEchoSpacing = "as-sent" | "compact";
/** The letter case of the `OK:` echo. */
export type EspecEchoCase = "as-sent" | "upper" | "lower";

export interface EspecFaults {
  /** No reply; the command is not carried out. */
  timeout?: FaultRate;
  /** A line of `bytes` random characters (default 12) instead of the reply. */
  garbage?: FaultRate & { bytes?: number };
  /** `NA:<text>` instead of the reply (default text "CHB NOT READY"); the command is not carried out. */
  na?: FaultRate & { text?: string };
  /** The reply comes `delayMs` late (default 1500 ms). */
  lateReply?: FaultRate & { delayMs?: number };
  /** The link is cut for `forMs` (default 1000 ms). */
  disconnect?: FaultRate & { forMs?: number };
}

const ESPEC_FAULT_KNOBS: { readonly [K in keyof EspecFaults]-?: KnobParams } = {
  timeout: {},
  garbage: { bytes: { min: 1, max: 256, integer: true } },
  na: { text: "text" },
  lateReply: { delayMs: { min: 0, max: 600_000 } },
  disconnect: { forMs: { min: 0, max: 600_000 } },
};

export interface EspecP300Emulator extends RunningEmulator {
  readonly chamber: EmulatedChamber;
  readonly faults: FaultDeck<EspecFaults>;
  /** Operating mode (also changed by MODE commands). */
  mode: EspecMode;
  /** Key protection (settings refused with NA:PROTECT ON). */
  protect: boolean;
  /** Spacing of the `OK:` echo (option echoSpacing). */
  echoSpacing: EspecEchoSpacing;
  /** Case of the `OK:` echo (option echoCase). */
  echoCase: EspecEchoCase;
  /** Every line received, after the address prefix was checked and removed. */
  readonly commands: readonly string[];
  /** Cuts the link for `ms`. */
  disconnectFor(ms: number): void;
}

/** Starts an emulated P300. */
export async function startEspecP300Emulator(start: EmulatorStartOptions): Promise<EspecP300Emulator> {
  const reader = new OptionReader(ESPEC_P300_EMULATOR, start.options);
  const addressOption = reader.raw("address");
  if (addressOption !== undefined && !(Number.isInteger(addressOption) && (addressOption as number) >= 0))
    reader.fail("address must be a whole number");
  const address = addressOption as number | undefined;
  const air = EmulatedChamber.readOptions(reader);
  let mode = reader.choice<EspecMode>("mode", "STANDBY", SETTABLE_MODES);
  const setpointC = reader.number("setpointC", 25, air.rangeC[0], air.rangeC[1]);
  const alarmLimitsC = reader.range("alarmLimitsC", air.rangeC);
  const typeReplyOption = reader.raw("typeReply");
  if (typeReplyOption !== undefined && typeof typeReplyOption !== "string")
    reader.fail("typeReply must be a text");
  const typeReply = (typeReplyOption as string | undefined) ?? `T,S2,${air.rangeC[1].toFixed(1)}`;
  let protect = reader.boolean("protect", false);
  let echoSpacing = reader.choice<EspecEchoSpacing>("echoSpacing", "as-sent", ["as-sent", "compact"]);
  let echoCase = reader.choice<EspecEchoCase>("echoCase", "as-sent", ["as-sent", "upper", "lower"]);
  const timing = readLinkTiming(reader, { baud: 9600, maxBaud: 1_000_000 });
  const faults = new FaultDeck<EspecFaults>(ESPEC_P300_EMULATOR, ESPEC_FAULT_KNOBS, reader.raw("faults"));
  reader.done();

  const clock = start.clock ?? new SystemClock();
  const chamber = new EmulatedChamber(clock, air);
  chamber.setSetpoint(setpointC);
  chamber.setRegulating(mode === "CONSTANT");
  const commands: string[] = [];

  const f1 = (v: number) => (Math.round(v * 10) / 10).toFixed(1);

  /** Returns the `OK:` reply to a setting carried out, echoing it as this controller prints it. */
  const ok = (command: string): string => {
    let echo = echoSpacing === "compact" ? command.replace(/\s+/g, "") : command;
    if (echoCase === "upper") echo = echo.toUpperCase();
    else if (echoCase === "lower") echo = echo.toLowerCase();
    return `OK:${echo}`;
  };

  /** Returns the reply to one command. */
  const answer = (command: string): string => {
    const c = command.trim();
    const upper = c.toUpperCase();
    if (upper === "TEMP?") {
      const s = chamber.state();
      return `${f1(s.airC)},${f1(chamber.model.setpointC)},${f1(alarmLimitsC[1])},${f1(alarmLimitsC[0])}`;
    }
    if (upper === "MON?") return `${f1(chamber.state().airC)},,${mode},0`;
    if (upper === "MODE?") return mode;
    if (upper === "TYPE?") return typeReply;
    const temp = /^TEMP\s*,\s*S\s*([-+]?\d+(?:\.\d+)?)$/i.exec(c);
    if (temp) {
      if (protect) return "NA:PROTECT ON";
      const value = Number(temp[1]);
      if (
        value < alarmLimitsC[0] ||
        value > alarmLimitsC[1] ||
        value < air.rangeC[0] ||
        value > air.rangeC[1]
      )
        return "NA:DATA OUT OF RANGE";
      chamber.setSetpoint(value);
      return ok(c);
    }
    const modeCommand = /^MODE\s*,\s*([A-Z]+)$/i.exec(c);
    if (modeCommand) {
      if (protect) return "NA:PROTECT ON";
      const wanted = modeCommand[1]!.toUpperCase() as EspecMode;
      if (!SETTABLE_MODES.includes(wanted)) return "NA:PARA ERR";
      mode = wanted;
      chamber.setRegulating(mode === "CONSTANT");
      return ok(c);
    }
    if (/^(TEMP|MODE)\b/i.test(c)) return "NA:PARA ERR";
    return "NA:CMD ERR";
  };

  const serve = async (received: ReceivedLine): Promise<void> => {
    let command = received.line;
    if (address !== undefined) {
      const prefix = /^\s*(\d+)\s*,(.*)$/.exec(command);
      if (!prefix || Number(prefix[1]) !== address) return;
      command = prefix[2]!;
    }
    commands.push(command);
    if (link.disconnectOnFault()) return;
    if (faults.fire("timeout")) return;
    const na = faults.fire("na");
    await link.reply(received, na ? `NA:${na.text ?? "CHB NOT READY"}` : answer(command));
  };

  const link = new AsciiLineLink({ listen: start.listen, faults, timing, terminator: "\r\n", serve });
  await link.start();

  return {
    name: ESPEC_P300_EMULATOR,
    listen: link.url,
    chamber,
    faults,
    commands,
    get mode() {
      return mode;
    },
    set mode(value: EspecMode) {
      mode = value;
      chamber.setRegulating(mode === "CONSTANT");
    },
    get protect() {
      return protect;
    },
    set protect(value: boolean) {
      protect = value;
    },
    get echoSpacing() {
      return echoSpacing;
    },
    set echoSpacing(value: EspecEchoSpacing) {
      echoSpacing = value;
    },
    get echoCase() {
      return echoCase;
    },
    set echoCase(value: EspecEchoCase) {
      echoCase = value;
    },
    disconnectFor: (ms) => link.disconnectFor(ms),
    stop: () => link.stop(),
  };
}
