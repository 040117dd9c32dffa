import { environmentHelp } from "./environment.js";
import type { CommandHelp } from "./help.js";

/** `cellbench serve --help` (serve-command.ts parses these options). */
export const SERVE_HELP: CommandHelp = {
  summary: "run the daemon on a bench",
  args: "[--config FILE] [--speed N] [--port P] [--no-local-influx]",
  details: `Runs until SIGINT (Ctrl-C) or SIGTERM: channels to a safe state, data flushed; a second
signal exits at once.

options:
  --config FILE  the bench configuration (default examples/sim-bench.yaml, the simulated bench)
  --speed N      run a simulated bench N times faster than real time (default 1; real drivers refuse
                 any other speed)
  --port P       listen on port P instead of the configuration's http.port (0: any free port)
  --no-local-influx
                 never start a private InfluxDB

When influx.url is a loopback http:// URL where nothing answers and influxd (InfluxDB 1.x,
\`sudo apt-get install influxdb\`) is installed, serve starts a private influxd on that address, with its
data in an influxd directory beside the store file (./var/influxd for the example bench), and stops it
on exit. Without InfluxDB, samples are spooled to the outbox in the store file and sent when it answers.

${environmentHelp((v) => v.readBy.startsWith("serve"))}

examples:
  cellbench serve                                          the simulated bench on 127.0.0.1:8080
  cellbench serve --config /etc/cellbench/bench.yaml       a real bench (see examples/systemd/)`,
};
