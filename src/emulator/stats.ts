import { percentile } from './loadgen.js';

/** One completed request as the demo records it. */
export interface RequestRecord {
  readonly gateway: string;
  /** ms since the run started. */
  readonly startMs: number;
  readonly latencyMs: number;
  readonly ok: boolean;
  /** Serving node ('' when the request failed). */
  readonly servedBy: string;
  /** gRPC error message when the request failed. */
  readonly error?: string;
}

export interface LatencySummary {
  readonly requests: number;
  readonly errors: number;
  readonly dropped: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Share of successful requests served on the node they entered. */
  readonly localShare: number;
  /** Requests per (gateway, serving node). */
  readonly matrix: Record<string, Record<string, number>>;
  /** Failed requests by error message (gRPC status text, digits folded). */
  readonly errorKinds: Record<string, number>;
}

export function summarise(records: readonly RequestRecord[], dropped = 0): LatencySummary {
  const ok = records.filter((r) => r.ok);
  const lat = ok.map((r) => r.latencyMs);
  const matrix: Record<string, Record<string, number>> = {};
  for (const r of ok) {
    const row = (matrix[r.gateway] ??= {});
    row[r.servedBy] = (row[r.servedBy] ?? 0) + 1;
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  const errorKinds: Record<string, number> = {};
  for (const r of records) {
    if (r.ok) continue;
    const kind = (r.error ?? 'unknown').replace(/\d+(\.\d+)?/g, 'N').slice(0, 120);
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  }
  return {
    requests: records.length,
    errors: records.length - ok.length,
    dropped,
    meanMs: round(lat.length ? lat.reduce((s, x) => s + x, 0) / lat.length : NaN),
    p50Ms: round(percentile(lat, 50)),
    p95Ms: round(percentile(lat, 95)),
    p99Ms: round(percentile(lat, 99)),
    localShare: round(ok.length ? ok.filter((r) => r.servedBy === r.gateway).length / ok.length : NaN),
    matrix,
    errorKinds,
  };
}

export interface TimelineBucket {
  readonly tMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly meanMs: number;
  readonly p95Ms: number;
  /** Share of successful requests per serving node in this bucket. */
  readonly servedShare: Record<string, number>;
}

/** Bucket records by start time, for the events timeline. */
export function timeline(records: readonly RequestRecord[], bucketMs: number): TimelineBucket[] {
  const buckets = new Map<number, RequestRecord[]>();
  for (const r of records) {
    const b = Math.floor(r.startMs / bucketMs) * bucketMs;
    let list = buckets.get(b);
    if (!list) buckets.set(b, (list = []));
    list.push(r);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([tMs, list]) => {
      const ok = list.filter((r) => r.ok);
      const served: Record<string, number> = {};
      for (const r of ok) served[r.servedBy] = (served[r.servedBy] ?? 0) + 1;
      for (const k of Object.keys(served)) served[k] = Math.round((1000 * served[k]!) / ok.length) / 1000;
      const lat = ok.map((r) => r.latencyMs);
      return {
        tMs,
        requests: list.length,
        errors: list.length - ok.length,
        meanMs: lat.length ? Math.round((lat.reduce((s, x) => s + x, 0) / lat.length) * 100) / 100 : NaN,
        p95Ms: percentile(lat, 95),
        servedShare: served,
      };
    });
}

/** Time from `eventMs` until the last bucket that still has errors ends (0 if none after the event). */
export function failuresStopAfterMs(buckets: readonly TimelineBucket[], eventMs: number, bucketMs: number, untilMs = Infinity): number {
  let last = eventMs;
  for (const b of buckets) if (b.tMs >= eventMs - bucketMs && b.tMs < untilMs && b.errors > 0) last = Math.max(last, b.tMs + bucketMs);
  return last - eventMs;
}

/**
 * Time from `eventMs` until the share of traffic served on `node` stays within `tolerance` of its
 * final value (averaged over the last buckets before `untilMs`).
 */
export function settleTimeMs(buckets: readonly TimelineBucket[], node: string, eventMs: number, untilMs: number, tolerance = 0.1): number {
  const window = buckets.filter((b) => b.tMs >= eventMs && b.tMs < untilMs);
  if (window.length === 0) return NaN;
  const tail = window.slice(-Math.max(1, Math.floor(window.length / 4)));
  const final = tail.reduce((s, b) => s + (b.servedShare[node] ?? 0), 0) / tail.length;
  let settled = window[0]!.tMs;
  for (const b of window)
    if (Math.abs((b.servedShare[node] ?? 0) - final) > tolerance) settled = b.tMs + (window[1] ? window[1].tMs - window[0]!.tMs : 0);
  return settled - eventMs;
}
