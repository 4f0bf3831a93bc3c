import type { LatencySummary } from './stats.js';

/** A latency summary for tests of tables and verdicts: p95 and p99 at 2× and 3× the mean. */
export function latencySummary(meanMs: number, matrix: LatencySummary['matrix'] = {}): LatencySummary {
  return {
    requests: 100,
    errors: 0,
    dropped: 0,
    meanMs,
    p50Ms: meanMs,
    p95Ms: 2 * meanMs,
    p99Ms: 3 * meanMs,
    localShare: 0.5,
    matrix,
    errorKinds: {},
  };
}
