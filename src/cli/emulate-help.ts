import type { CommandHelp } from "./help.js";

/** `cellbench emulate --help` (emulate-command.ts parses these options). */
export const EMULATE_HELP: CommandHelp = {
  summary: "a wire-level instrument emulator (try a driver without the instrument)",
  args: "DRIVER --listen URL [--unit N[,N...]] [--speed N] [--link-timing] [--set OPTION=VALUE ...]",
  details: `options:
  DRIVER         the driver the emulator answers for (${"`cellbench emulate --list`"} lists them)
  --listen       serial:///tmp/ttyV1[?baud=19200]   the device end of a socat pty pair, e.g. made with
                   socat pty,raw,echo=0,link=/tmp/ttyV0 pty,raw,echo=0,link=/tmp/ttyV1
                 tcp://127.0.0.1:5020                a TCP server
  --unit         Modbus unit id(s) to answer on (default 1)
  --speed        physics speed factor (default 1: real time)
  --link-timing  emulate serial byte times, t3.5 and the device turnaround at the line's baud rate
  --set          an emulator option, e.g. --set decimals=2 --set 'faults={"timeout":{"probability":0.05}}'
  --list         list the emulators (cellbench emulate --list)
Runs until Ctrl-C (SIGINT) or SIGTERM.`,
};
