/** One reading of a cycler channel, stamped by the poller that took it. Current: positive = charge. */
export interface ChannelSample {
  channel: string;
  /** Monotonic milliseconds (the clock's `now()`): integration and step timing. */
  tMonoMs: number;
  /** UTC epoch milliseconds (the clock's `wallNow()`): the InfluxDB timestamp. */
  tWallMs: number;
  voltageV: number;
  currentA: number;
  temperatureC: number;
}
