/** Seeded randomness (mulberry32) and the distributions the simulator and the emulator need. */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derive an independent stream from a seed and a label (so adding a stream does not shift others). */
export function streamFor(seed: number, label: string): Rng {
  let h = seed ^ 0x9e3779b9;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x85ebca6b) >>> 0;
  return mulberry32(h ^ (h >>> 13));
}

export function exponential(rng: Rng, meanMs: number): number {
  return -Math.log(1 - rng()) * meanMs;
}

export function standardNormal(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Lognormal with the given mean and log-space sigma. */
export function lognormal(rng: Rng, meanMs: number, sigma: number): number {
  const mu = Math.log(meanMs) - (sigma * sigma) / 2;
  return Math.exp(mu + sigma * standardNormal(rng));
}

/** Uniform in [mean − jitter, mean + jitter] (netem-style "delay X Y"), never below 0. */
export function jittered(rng: Rng, meanMs: number, jitterMs: number): number {
  return Math.max(0, meanMs + (2 * rng() - 1) * jitterMs);
}

/** Log-space sigma of a lognormal with coefficient of variation `cv` (sd / mean). */
export function sigmaForCv(cv: number): number {
  return Math.sqrt(Math.log(1 + cv * cv));
}
