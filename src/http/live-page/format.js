/** Numbers as the live page shows them: fixed decimals and their unit (`3.712 V`, `-0.500 A`, `25.1 °C`). */

/** `x` with `decimals` decimals and its unit; a dash when there is no value. "-0.000" reads "0.000". */
export function withUnit(x, decimals, unit) {
  if (typeof x !== "number" || !Number.isFinite(x)) return "–";
  const text = x.toFixed(decimals).replace(/^-(0(\.0*)?)$/, "$1");
  return `${text} ${unit}`;
}

export const volts = (v) => withUnit(v, 3, "V");
export const amps = (a) => withUnit(a, 3, "A");
export const celsius = (t) => withUnit(t, 1, "°C");
export const ampHours = (ah) => withUnit(ah, 3, "Ah");

/** A duration in seconds as `2 h 05 min`, `9 min 50 s` or `12 s`. */
export function duration(s) {
  if (typeof s !== "number" || !Number.isFinite(s) || s < 0) return "–";
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, "0")} s`;
  return `${sec} s`;
}

/** An ISO time as the browser's local date and time (bench clock times may be simulated). */
export function localTime(iso) {
  if (typeof iso !== "string") return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "–" : d.toLocaleString();
}
