/**
 * A cell's derating curve (largest charge and discharge current by cell temperature, from its
 * datasheet): linear between points, the end points' values beyond them.
 */
import type { DeratingPoint } from "../../drivers/capabilities.js";

export interface CurrentLimits {
  chargeA: number;
  dischargeA: number;
}

/**
 * The limits at `temperatureC`: unlimited without a curve; the curve's lowest values while the
 * temperature is not known (before the first sample).
 */
export function deratedLimits(
  curve: readonly DeratingPoint[] | undefined,
  temperatureC: number,
): CurrentLimits {
  const first = curve?.[0];
  if (!curve || !first) return { chargeA: Number.POSITIVE_INFINITY, dischargeA: Number.POSITIVE_INFINITY };
  if (Number.isNaN(temperatureC))
    return {
      chargeA: Math.min(...curve.map((p) => p.chargeA)),
      dischargeA: Math.min(...curve.map((p) => p.dischargeA)),
    };
  if (temperatureC <= first.temperatureC) return { chargeA: first.chargeA, dischargeA: first.dischargeA };
  for (let i = 1; i < curve.length; i++) {
    const b = curve[i] as DeratingPoint;
    if (temperatureC > b.temperatureC) continue;
    const a = curve[i - 1] as DeratingPoint;
    const f = (temperatureC - a.temperatureC) / (b.temperatureC - a.temperatureC);
    return {
      chargeA: a.chargeA + f * (b.chargeA - a.chargeA),
      dischargeA: a.dischargeA + f * (b.dischargeA - a.dischargeA),
    };
  }
  const last = curve[curve.length - 1] as DeratingPoint;
  return { chargeA: last.chargeA, dischargeA: last.dischargeA };
}
