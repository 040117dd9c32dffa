import type { CommandHelp } from "./help.js";

/** `cellbench profile check --help` (profile-check-command.ts parses these options). */
export const PROFILE_CHECK_HELP: CommandHelp = {
  summary: "validate a profile and dry-run it on the simulated cell",
  args: "PROFILE --cell CELL [--soc 0..1] [--period SECONDS] [--out PATH | --trace]",
  details: `options:
  --cell CELL        the cell file (limits and chemistry), e.g. examples/cells/nmc-18650.yaml
  --soc 0..1         the cell's state of charge at the start (default 0.5)
  --period SECONDS   simulated sample period, 0.01 to 60 (default 1: 60 days at most; 30 reaches 5 years,
                     each step may then end up to one period late)
  --out PATH         write the simulated samples as CSV (one row per sample; a long test at 1 s is large):
                       FILE   to that file, replaced if it exists
                       DIR/   to DIR/<profile name>.trace.csv
                       -      to stdout, the summary then going to stderr
  --trace            write them to <profile name>.trace.csv in a new directory of the OS temp dir
                     (${"$"}TMPDIR or /tmp), printed at the end
  Without --out or --trace nothing is written.

exit status: 0 when the dry run completes, 1 when it ends otherwise (a limit, a fault), 2 for a usage error

example:
  cellbench profile check examples/profiles/first-test.yaml --cell examples/cells/nmc-18650.yaml --trace`,
};
