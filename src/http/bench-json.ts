/**
 * GET /api/v1/bench as JSON text, without the route's schema serialiser: that one checks every
 * nullable field with ajv and cost ~0.4 ms a request for 64 channels, on the sampling loop. Each
 * channel's text is kept between requests and rebuilt only when one of its inputs differs from the
 * ones it was built from (the sample, run and state, read errors, cells, sensors, ranges), compared on
 * every request, so a request never sees an older sample than the bench holds. Only the sample's age
 * is computed per request; the bench's head, chambers and devices are small and serialised every time.
 * The view is the same for every role that may read it (the route's role check runs before).
 */
import type { Bench, ChannelSlot } from "../bench/bench.js";
import type { ChannelSample } from "../sampling/sample.js";
import {
  benchHeadView,
  chamberView,
  channelHeadView,
  deviceView,
  sampleAgeS,
  sampleHeadView,
  sampleTailView,
} from "./views.js";

/** What a channel's text before `last_sample` was built from, and the text. */
interface HeadText {
  run: ChannelSlot["run"];
  state: string | undefined;
  readErrors: number;
  cell: string | undefined;
  cellInside: string | undefined;
  sensors: ChannelSlot["sensors"];
  /** voltage_v, current_a and power_w of the ranges. */
  ranges: readonly number[];
  /** `{"id":…,"ranges":{…},"last_sample":` */
  text: string;
}

/** What a channel's sample text was built from, and the text around the value of `age_s`. */
interface SampleText {
  latest: ChannelSample;
  tMonoMs: number;
  /** `{"time":…,"age_s":` */
  head: string;
  /** `,"temperature_age_s":…}` */
  tail: string;
}

export class BenchJson {
  private readonly heads = new WeakMap<ChannelSlot, HeadText>();
  private readonly samples = new WeakMap<ChannelSlot, SampleText>();
  /** Texts built so far (a channel's head or sample, once per change of what it shows). */
  channelsBuilt = 0;

  /** The bench view (views.ts benchView) as JSON text. */
  render(bench: Bench, mountedCell: (channel: string) => string | undefined): string {
    const nowMono = bench.clock.now();
    let out = `${JSON.stringify(benchHeadView(bench)).slice(0, -1)},"channels":[`;
    let first = true;
    for (const slot of bench.channels.values()) {
      if (!first) out += ",";
      first = false;
      out += this.headText(bench, slot, mountedCell);
      const latest = slot.latest;
      if (latest) {
        const sample = this.sampleText(slot, latest);
        const age = sampleAgeS(latest, nowMono);
        out += `${sample.head}${Number.isFinite(age) ? age : "null"}${sample.tail}}`;
      } else out += "null}";
    }
    out += '],"chambers":[';
    first = true;
    for (const slot of bench.chambers.values()) {
      if (!first) out += ",";
      first = false;
      out += JSON.stringify(chamberView(slot));
    }
    out += '],"devices":[';
    first = true;
    for (const device of bench.devices) {
      if (!first) out += ",";
      first = false;
      out += JSON.stringify(deviceView(bench, device));
    }
    return `${out}]}`;
  }

  private headText(
    bench: Bench,
    slot: ChannelSlot,
    mountedCell: (channel: string) => string | undefined,
  ): string {
    const cached = this.heads.get(slot);
    const cell = mountedCell(slot.id);
    const cellInside = bench.supervisor.cellOn(slot.id)?.cell.id;
    const r = slot.channel.ranges;
    if (
      cached !== undefined &&
      cached.run === slot.run &&
      cached.state === slot.run?.currentState &&
      cached.readErrors === slot.readErrors &&
      cached.cell === cell &&
      cached.cellInside === cellInside &&
      cached.sensors === slot.sensors &&
      sameRanges(cached.ranges, r)
    )
      return cached.text;
    const text = `${JSON.stringify(channelHeadView(bench, slot, () => cell)).slice(0, -1)},"last_sample":`;
    this.heads.set(slot, {
      run: slot.run,
      state: slot.run?.currentState,
      readErrors: slot.readErrors,
      cell,
      cellInside,
      sensors: slot.sensors,
      // Copied: a driver may change its ranges in place.
      ranges: [...r.voltageV, ...r.currentA, r.powerW],
      text,
    });
    this.channelsBuilt++;
    return text;
  }

  private sampleText(slot: ChannelSlot, latest: ChannelSample): SampleText {
    const cached = this.samples.get(slot);
    // The time as well as the object: a new sample has a later time, even if written in place.
    if (cached !== undefined && cached.latest === latest && cached.tMonoMs === latest.tMonoMs) return cached;
    const text: SampleText = {
      latest,
      tMonoMs: latest.tMonoMs,
      head: `${JSON.stringify(sampleHeadView(latest)).slice(0, -1)},"age_s":`,
      tail: `,${JSON.stringify(sampleTailView(latest)).slice(1)}`,
    };
    this.samples.set(slot, text);
    this.channelsBuilt++;
    return text;
  }
}

function sameRanges(seen: readonly number[], r: ChannelSlot["channel"]["ranges"]): boolean {
  const v = r.voltageV;
  const a = r.currentA;
  return (
    seen.length === v.length + a.length + 1 &&
    seen[0] === v[0] &&
    seen[1] === v[1] &&
    seen[2] === a[0] &&
    seen[3] === a[1] &&
    seen[4] === r.powerW
  );
}
