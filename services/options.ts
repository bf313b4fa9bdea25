/** A tunable number: its default, and the range a given value is clamped into. */
export interface Tunable {
  default: number;
  min: number;
  max: number;
}

/**
 * A service's optional numbers resolved once, at construction: each given value clamped into its
 * range, each missing one its default. The service then reads `settings.x`, never `x ?? n`.
 */
export function settle<K extends string>(
  given: Partial<Record<NoInfer<K>, number | undefined>>,
  tunables: Record<K, Tunable>,
): Record<K, number> {
  const settled = {} as Record<K, number>;
  for (const key of Object.keys(tunables) as K[]) {
    const { default: fallback, min, max } = tunables[key];
    const value = given[key];
    settled[key] =
      value === undefined || Number.isNaN(value) ? fallback : Math.min(max, Math.max(min, value));
  }
  return settled;
}
