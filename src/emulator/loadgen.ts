import { exponential, type Rng } from '../util/rng.js';

/**
 * An open-loop load generator with k6's constant-arrival-rate semantics: iterations start at a fixed
 * rate whatever the response times are; an iteration that finds every VU busy is dropped and counted
 * (k6's `dropped_iterations`). `poisson` spacing models independent users instead of k6's even spacing.
 */
export interface ArrivalOptions {
  /** Iterations per second. */
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly spacing: 'constant' | 'poisson';
}

/** Start offsets (ms from the beginning) of every iteration. Pure. */
export function arrivalOffsetsMs(opts: ArrivalOptions, rng: Rng): number[] {
  const out: number[] = [];
  if (opts.ratePerSecond <= 0) return out;
  if (opts.spacing === 'constant') {
    const step = 1000 / opts.ratePerSecond;
    for (let t = 0; t < opts.durationMs; t += step) out.push(t);
    return out;
  }
  for (let t = exponential(rng, 1000 / opts.ratePerSecond); t < opts.durationMs; t += exponential(rng, 1000 / opts.ratePerSecond))
    out.push(t);
  return out;
}

export interface Sample {
  /** Start time, ms since the run's epoch. */
  readonly startMs: number;
  readonly latencyMs: number;
  readonly ok: boolean;
  /** The node that served it (from the function's reply), when known. */
  readonly servedBy?: string;
  /** Time spent in the pod (from the function's reply), when known. */
  readonly podMs?: number;
  /** Time spent in the user container (from the function's reply), when known. */
  readonly serviceMs?: number;
  /** Time the gateway waited for its ext_proc decision, when it asked for one. */
  readonly decideMs?: number;
  /** The ext_proc decision did not come (timeout or failure): the EDS weights routed the request. */
  readonly fellBack?: boolean;
  /** The route disabled the ext_proc filter: the EDS weights routed the request, no decision asked. */
  readonly skippedPicker?: boolean;
  readonly error?: string;
}

export interface RunResult {
  readonly samples: Sample[];
  readonly dropped: number;
}

export interface RunOptions extends ArrivalOptions {
  /** k6 maxVUs: at most this many iterations in flight. */
  readonly maxInFlight: number;
  readonly rng: Rng;
  /** Absolute epoch (performance.now() based) the offsets are relative to. */
  readonly epochMs: number;
  /** Called every ~second with the samples so far, for progress. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What one invocation reports besides its latency. */
export interface InvokeResult {
  readonly servedBy?: string;
  readonly podMs?: number;
  readonly serviceMs?: number;
  readonly decideMs?: number;
  readonly fellBack?: boolean;
  readonly skippedPicker?: boolean;
}

/** Run `invoke` on the arrival schedule; resolves when every started iteration finished. */
export async function runOpenLoop(opts: RunOptions, invoke: () => Promise<InvokeResult>): Promise<RunResult> {
  const offsets = arrivalOffsetsMs(opts, opts.rng);
  const samples: Sample[] = [];
  let inFlight = 0;
  let dropped = 0;
  const pending: Promise<void>[] = [];
  let lastProgress = performance.now();
  for (const offset of offsets) {
    const wait = opts.epochMs + offset - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= opts.maxInFlight) {
      dropped++;
      continue;
    }
    inFlight++;
    const startMs = performance.now();
    pending.push(
      invoke().then(
        (r) => {
          inFlight--;
          samples.push({
            startMs: startMs - opts.epochMs,
            latencyMs: performance.now() - startMs,
            ok: true,
            ...(r.servedBy ? { servedBy: r.servedBy } : {}),
            ...(r.podMs !== undefined ? { podMs: r.podMs } : {}),
            ...(r.serviceMs !== undefined ? { serviceMs: r.serviceMs } : {}),
            ...(r.decideMs !== undefined ? { decideMs: r.decideMs } : {}),
            ...(r.fellBack ? { fellBack: true } : {}),
            ...(r.skippedPicker ? { skippedPicker: true } : {}),
          });
        },
        (err: Error) => {
          inFlight--;
          samples.push({ startMs: startMs - opts.epochMs, latencyMs: performance.now() - startMs, ok: false, error: err.message });
        },
      ),
    );
    if (opts.onProgress && performance.now() - lastProgress > 1000) {
      lastProgress = performance.now();
      opts.onProgress(samples.length, offsets.length);
    }
  }
  await Promise.all(pending);
  return { samples, dropped };
}

/** Percentile (0..100) of a list of numbers by nearest rank; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
