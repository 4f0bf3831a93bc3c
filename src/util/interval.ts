/**
 * Confidence intervals over repeated runs (one value per seed). Every "A beats B" claim in a report
 * is decided on these intervals: a difference counts only when the intervals do not overlap.
 */

/** Two-sided 95 % Student t quantiles for 1..30 degrees of freedom; 1.96 beyond. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function t95(degreesOfFreedom: number): number {
  if (!(degreesOfFreedom >= 1)) return NaN;
  return degreesOfFreedom <= T95.length ? T95[Math.floor(degreesOfFreedom) - 1]! : 1.96;
}

export interface MeanInterval {
  readonly n: number;
  readonly mean: number;
  /** Half-width of the 95 % interval (NaN for a single value: one seed shows no spread). */
  readonly halfWidth: number;
  readonly low: number;
  readonly high: number;
}

/** Mean and 95 % confidence interval (Student t) of independent samples, e.g. one per seed. */
export function meanInterval(values: readonly number[]): MeanInterval {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n, mean: NaN, halfWidth: NaN, low: NaN, high: NaN };
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n === 1) return { n, mean, halfWidth: NaN, low: NaN, high: NaN };
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  const halfWidth = t95(n - 1) * Math.sqrt(variance / n);
  return { n, mean, halfWidth, low: mean - halfWidth, high: mean + halfWidth };
}

export type Comparison = 'lower' | 'higher' | 'no difference shown';

/**
 * How `a` compares with `b` on intervals: 'lower' only when a's whole interval lies below b's.
 * With fewer than two samples on either side nothing can be shown.
 */
export function compareIntervals(a: MeanInterval, b: MeanInterval): Comparison {
  if (!(a.n >= 2 && b.n >= 2) || Number.isNaN(a.halfWidth) || Number.isNaN(b.halfWidth)) return 'no difference shown';
  if (a.high < b.low) return 'lower';
  if (a.low > b.high) return 'higher';
  return 'no difference shown';
}

/** "12.3 ± 1.4" with the precision a reader needs (never raw floating-point noise). */
export function formatInterval(i: MeanInterval, digits = 1): string {
  if (!Number.isFinite(i.mean)) return '–';
  return Number.isFinite(i.halfWidth) ? `${i.mean.toFixed(digits)} ± ${i.halfWidth.toFixed(digits)}` : i.mean.toFixed(digits);
}
