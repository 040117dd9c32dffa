/** One reading of a cycler channel, stamped by the poller that took it. Current: positive = charge. */
export interface ChannelSample {
  channel: string;
  /** Monotonic milliseconds (the clock's `now()`): integration and step timing. */
  tMonoMs: number;
  /** UTC epoch milliseconds (the clock's `wallNow()`): the InfluxDB timestamp. */
  tWallMs: number;
  voltageV: number;
  currentA: number;
  /** Cell temperature: the hottest of its sensors, or the channel's own; NaN when there is none. */
  temperatureC: number;
  /** Age of the sensor scan behind `temperatureC`, ms (channels with configured sensors). */
  temperatureAgeMs?: number;
  /** Why a channel with configured sensors has no temperature (named sensor, fault): a safety fault. */
  temperatureFault?: string;
  /** Each configured sensor's value, by `device:input`. */
  temperaturesC?: Record<string, number>;
}
