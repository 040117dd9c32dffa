/**
 * What the log says while InfluxDB does not answer. An outage is expected (InfluxDB restarted, not
 * installed yet, the network down) and the outbox spools meanwhile, so it gets one short warning
 * when it begins and one line when InfluxDB answers again, with the spooled count; the retries in
 * between are debug lines. Refusals by a server that answers (authentication, 5xx, bad data) are
 * not outages and are logged where they happen.
 */
import type { Logger } from "pino";

export class OutageLog {
  private readonly log: Logger;
  private readonly url: string;
  private readonly spooledPoints: () => number;
  private readonly wallNow: () => number;
  private downSinceMs: number | undefined;
  private retries = 0;

  constructor(options: { log: Logger; url: string; spooledPoints: () => number; wallNow?: () => number }) {
    this.log = options.log;
    this.url = options.url;
    this.spooledPoints = options.spooledPoints;
    this.wallNow = options.wallNow ?? Date.now;
  }

  /** True between the first unanswered request and the next success. */
  get down(): boolean {
    return this.downSinceMs !== undefined;
  }

  /** A request got no answer (refused, timed out, unresolvable); `error` is the one-line reason. */
  unanswered(error: string, retryInMs: number): void {
    const fields = {
      url: this.url,
      error,
      retryInMs: Math.round(retryInMs),
      spooledPoints: this.spooledPoints(),
    };
    if (this.downSinceMs !== undefined) {
      this.retries++;
      this.log.debug({ ...fields, retries: this.retries }, "InfluxDB still does not answer");
      return;
    }
    this.downSinceMs = this.wallNow();
    this.retries = 0;
    this.log.warn(
      fields,
      `InfluxDB at ${this.url} does not answer (${error}); samples are spooled to the outbox and sent when it does`,
    );
  }

  /** InfluxDB took a write again. Returns false when no outage was logged (nothing said here). */
  answered(): boolean {
    if (this.downSinceMs === undefined) return false;
    const downForS = Math.round((this.wallNow() - this.downSinceMs) / 1000);
    this.downSinceMs = undefined;
    const spooledPoints = this.spooledPoints();
    this.log.info(
      { url: this.url, downForS, retries: this.retries, spooledPoints },
      `InfluxDB at ${this.url} answers again after ${downForS} s; sending ${spooledPoints} spooled points`,
    );
    return true;
  }
}
