/** Charge and energy counters, charge and discharge kept apart (all magnitudes ≥ 0). */
export interface Throughput {
  chargeAh: number;
  dischargeAh: number;
  chargeWh: number;
  dischargeWh: number;
}

export const zeroThroughput = (): Throughput => ({
  chargeAh: 0,
  dischargeAh: 0,
  chargeWh: 0,
  dischargeWh: 0,
});

/** Adds the charge and energy of one interval: `amps` and `watts` are the interval's mean values. */
export function addInterval(t: Throughput, amps: number, watts: number, dtS: number): void {
  const ah = (amps * dtS) / 3600;
  const wh = (watts * dtS) / 3600;
  if (ah >= 0) t.chargeAh += ah;
  else t.dischargeAh -= ah;
  if (wh >= 0) t.chargeWh += wh;
  else t.dischargeWh -= wh;
}

export function minus(a: Throughput, b: Throughput): Throughput {
  return {
    chargeAh: a.chargeAh - b.chargeAh,
    dischargeAh: a.dischargeAh - b.dischargeAh,
    chargeWh: a.chargeWh - b.chargeWh,
    dischargeWh: a.dischargeWh - b.dischargeWh,
  };
}
