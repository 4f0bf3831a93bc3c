/** Seeded pseudo-random numbers for reproducible runs (mulberry32) and the distributions the emulator uses. */
export type Rng = () => number;

export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box–Muller. */
export function normal(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Lognormal with the given mean and coefficient of variation (sd / mean). */
export function lognormal(rng: Rng, mean: number, cv: number): number {
  if (cv <= 0) return mean;
  const sigma2 = Math.log(1 + cv * cv);
  const mu = Math.log(mean) - sigma2 / 2;
  return Math.exp(mu + Math.sqrt(sigma2) * normal(rng));
}

/** Exponential inter-arrival time for `ratePerSecond`, in ms. */
export function exponentialMs(rng: Rng, ratePerSecond: number): number {
  return (-Math.log(Math.max(1 - rng(), 1e-12)) / ratePerSecond) * 1000;
}
