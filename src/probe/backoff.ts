/** Reconnect back-off (pure): exponential growth, capped, with jitter so agents do not reconnect in lockstep. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 250, maxMs: 30_000 });

/** Delay before attempt `attempt` (0 = first retry): uniformly in [d/2, d] with d = min(max, base·2^attempt). */
export function backoffDelayMs(attempt: number, rng: () => number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const d = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return d / 2 + rng() * (d / 2);
}
