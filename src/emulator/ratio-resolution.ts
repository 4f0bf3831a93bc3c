import { t95 } from '../util/interval.js';

/**
 * How wide a live ÷ predicted interval over seeds is expected to be at a given level length (pure).
 *
 * One live seed is one run of the level. If live runs vary as much as the simulator's own runs of
 * the same length do (coefficient of variation `cv` of one run's mean or p95), `n` seeds give an
 * interval of about ±t·cv/√n around the true ratio however faithful the simulator is. When that is
 * as wide as the band, and the live interval is too, the level is too short to decide the verdict;
 * the report says so, with the level length at which the expected ± is half the band (the variance
 * of a run's mean taken to fall as 1/length, as it does once a run is much longer than the
 * process's swings). Live runs can vary less than simulated ones: an estimate, not a bound.
 */
export interface RatioResolution {
  /** Pooled coefficient of variation of one simulated run's value (over each seed's replications). */
  readonly cv: number;
  /** Half-width of the interval `seeds` live runs would give if they varied as the simulated runs do. */
  readonly floor: number;
  /** The verdict's band (± fraction). */
  readonly tolerance: number;
  /** The expected ± is at least the band: at this level length such runs would rarely show a ratio inside it. */
  readonly undecidable: boolean;
  /** Level length (s) at which the expected ± would be half the band. */
  readonly levelSecondsForHalfBand: number;
}

/**
 * `runsPerSeed`: per seed, the value of each simulated replication (one level, one policy); seeds
 * with fewer than two replications carry no spread and are skipped.
 */
export function ratioResolution(
  runsPerSeed: readonly (readonly number[])[],
  seeds: number,
  tolerance: number,
  measureMs: number,
): RatioResolution | undefined {
  const cv2s = runsPerSeed.map(cvSquared).filter((v): v is number => v !== undefined);
  if (cv2s.length === 0 || !(seeds >= 2) || !(measureMs > 0)) return undefined;
  const cv = Math.sqrt(cv2s.reduce((a, b) => a + b, 0) / cv2s.length);
  const floor = (t95(seeds - 1) * cv) / Math.sqrt(seeds);
  return {
    cv,
    floor,
    tolerance,
    undecidable: floor >= tolerance,
    levelSecondsForHalfBand: Math.ceil((measureMs / 1000) * (floor / (tolerance / 2)) ** 2),
  };
}

function cvSquared(xs: readonly number[]): number | undefined {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length < 2) return undefined;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (!(mean > 0)) return undefined;
  const variance = v.reduce((a, x) => a + (x - mean) ** 2, 0) / (v.length - 1);
  return variance / mean ** 2;
}

/** "the simulator's own 120 s runs vary the mean by cv 0.15, so 5 seeds of such runs give ±0.18" and what would decide it. */
export function describeResolution(what: string, r: RatioResolution, seeds: number, measureMs: number): string {
  const head = `the simulator's own ${Math.round(measureMs / 1000)} s runs vary ${what} by cv ${r.cv.toFixed(2)}, so ${seeds} seeds of such runs give ±${r.floor.toFixed(2)}`;
  return r.undecidable
    ? `${head}, wider than the ±${r.tolerance} band: not decidable at this level length (≥ ${r.levelSecondsForHalfBand} s levels bring it to half the band)`
    : head;
}
