/** A channel's live V, I and T plots (uPlot, loaded by the page as the global `uPlot`). */
/** Points kept per plot: ten minutes at the default one sample per second. */
const KEEP = 600;
const HEIGHT = 90;

const QUANTITIES = [
  { key: "voltage_v", label: "Voltage", unit: "V", decimals: 3, span: 0.01, stroke: "#175cd3" },
  { key: "current_a", label: "Current", unit: "A", decimals: 3, span: 0.1, stroke: "#c4320a" },
  { key: "temperature_c", label: "Temperature", unit: "°C", decimals: 1, span: 1, stroke: "#6941c6" },
];

/**
 * The y range: the data's with a margin, at least `span` wide, so a flat line (a resting channel's
 * 0 A) sits in the middle of a sensible scale instead of one of ±100.
 */
function yRange(min, max, span) {
  if (min === null || max === null) return [-span / 2, span / 2];
  const margin = Math.max((max - min) * 0.1, (span - (max - min)) / 2, 0);
  return [min - margin, max + margin];
}

export class ChannelPlots {
  /** Plots into `container`, one below the other. */
  constructor(container) {
    this.times = [];
    this.series = QUANTITIES.map(() => []);
    this.plots = QUANTITIES.map((q, k) => {
      const el = document.createElement("div");
      el.className = "plot";
      el.dataset.quantity = q.key;
      container.append(el);
      return new globalThis.uPlot(
        {
          width: Math.max(200, container.clientWidth),
          height: HEIGHT,
          legend: { show: false },
          scales: { x: { time: true }, y: { range: (_u, min, max) => yRange(min, max, q.span) } },
          series: [{}, { label: q.label, stroke: q.stroke, width: 1.5 }],
          axes: [
            { size: 28, font: "11px system-ui" },
            {
              size: 70,
              font: "11px system-ui",
              // Tick values as uPlot rounds them (3.79 V, 100 A), with the unit.
              values: (_u, splits) => splits.map((v) => `${Number(v.toFixed(q.decimals))} ${q.unit}`),
            },
          ],
        },
        [this.times, this.series[k]],
        el,
      );
    });
  }

  /** Adds a point (time in ms; null values leave a gap). */
  push(timeMs, values) {
    this.times.push(timeMs / 1000);
    QUANTITIES.forEach((q, k) => {
      const v = values[q.key];
      this.series[k].push(typeof v === "number" ? v : null);
    });
    if (this.times.length > KEEP) {
      this.times.splice(0, this.times.length - KEEP);
      for (const s of this.series) s.splice(0, s.length - KEEP);
    }
    this.plots.forEach((plot, k) => {
      plot.setData([this.times, this.series[k]]);
    });
  }

  get points() {
    return this.times.length;
  }

  resize(width) {
    for (const plot of this.plots) plot.setSize({ width: Math.max(200, width), height: HEIGHT });
  }
}
