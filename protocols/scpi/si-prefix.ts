/**
 * SI prefixes in the unit of a SCPI reply: some instruments print a measured value scaled to its
 * magnitude ("1.234 kW", "850 mA") instead of in the base unit.
 */

/** The prefixes a reply may carry before its base unit, with their factors. */
export const SI_PREFIXES: Readonly<Record<string, number>> = {
  µ: 1e-6,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
};

/**
 * Returns the factor that turns a value printed in `unit` into `baseUnit` ("kW" with base "W" → 1000;
 * "W" or "" → 1), or undefined when `unit` is neither the base unit nor a known prefix before it.
 */
export function siFactor(unit: string, baseUnit: string): number | undefined {
  if (unit === "" || unit === baseUnit) return 1;
  if (!unit.endsWith(baseUnit)) return undefined;
  return SI_PREFIXES[unit.slice(0, -baseUnit.length)];
}

/** Names the units a reply in `baseUnit` may carry, for error messages ("W, µW, uW, mW, kW or MW"). */
export function siUnitChoices(baseUnit: string): string {
  const units = [baseUnit, ...Object.keys(SI_PREFIXES).map((p) => p + baseUnit)];
  return `${units.slice(0, -1).join(", ")} or ${units[units.length - 1]}`;
}
