import { t95 } from '../util/interval.js';

/**
 * How narrow a live ÷ predicted interval over seeds can be at a given level length (pure).
 *
 * One live seed is one run of the level. If live runs varied as much as the simulator's own runs of
 * the same length do (coefficient of variation `cv` of one run's mean or p95), `n` seeds give an
 * interval of about ±t·cv/√n around the true ratio however faithful the simulator is. When that
 * floor is as wide as the band, the verdict cannot pass at this length; it says so, with the level
 * length at which the floor is half the band (the variance of a run's mean taken to fall as
 * 1/length, as it does once a run is much longer than the process's swings).
 */
export interface RatioResolution {
  /** Pooled coefficient of variation of one simulated run's value (over each seed's replications). */
  readonly cv: number;
  /** Half-width of the interval `seeds` live runs would give if they varied as the simulated runs do. */
  readonly floor: number;
  /** The verdict's band (± fraction). */
  readonly tolerance: number;
  /** The floor is at least the band: no live result can be shown inside it at this level length. */
  readonly undecidable: boolean;
  /** Level length (s) at which the floor would be half the band. */
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

/** "one 120 s run varies cv 0.15: 5 seeds resolve ±0.18 at best" and what would resolve it. */
export function describeResolution(what: string, r: RatioResolution, seeds: number, measureMs: number): string {
  const head = `the simulator's own ${Math.round(measureMs / 1000)} s runs vary ${what} by cv ${r.cv.toFixed(2)}, so ${seeds} seeds resolve ±${r.floor.toFixed(2)} at best`;
  return r.undecidable
    ? `${head}, wider than the ±${r.tolerance} band: not decidable at this level length (≥ ${r.levelSecondsForHalfBand} s levels bring it to half the band)`
    : head;
}
