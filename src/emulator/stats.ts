import { percentile } from './loadgen.js';
import type { ShareSample } from '../sim/dynamics.js';

/** One completed request as the demo records it. */
export interface RequestRecord {
  readonly gateway: string;
  /** ms since the run started. */
  readonly startMs: number;
  readonly latencyMs: number;
  readonly ok: boolean;
  /** Serving node ('' when the request failed). */
  readonly servedBy: string;
  /** Time the request spent in the pod (queue + service, from its reply), ms, when known. */
  readonly podMs?: number;
  /** Time the request spent in the user container (from its reply), ms, when known. */
  readonly serviceMs?: number;
  /** Time the gateway waited for its ext_proc decision, ms (ext_proc setups only). */
  readonly decideMs?: number;
  /** The ext_proc decision did not come in time: the EDS weights routed the request. */
  readonly fellBack?: boolean;
  /** The route disabled the ext_proc filter (EDS weights keep the gateway local): no decision asked. */
  readonly skippedPicker?: boolean;
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
  /** Share of successful requests served on the node they entered (to 0.01 %). */
  readonly localShare: number;
  /** Requests per (gateway, serving node). */
  readonly matrix: Record<string, Record<string, number>>;
  /** Failed requests by error message (gRPC status text, digits folded). */
  readonly errorKinds: Record<string, number>;
  /**
   * Mean and p95 with every request that ran out of the client's deadline counted at the deadline
   * (the figures above average successful requests only): what a prediction without a deadline is
   * held to once its own latencies are capped at the same deadline.
   */
  readonly atDeadline?: { readonly deadlineMs: number; readonly timedOut: number; readonly meanMs: number; readonly p95Ms: number };
}

const round = (x: number) => Math.round(x * 100) / 100;
/** A share to 0.01 %: the ≥ 99 % local target must not be decided on a share rounded to 1 %. */
const roundShare = (x: number) => Math.round(x * 10_000) / 10_000;
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : NaN);

/** The request failed because the client's deadline passed (gRPC DEADLINE_EXCEEDED), not for another reason. */
export function timedOut(r: RequestRecord): boolean {
  return !r.ok && /DEADLINE_EXCEEDED/.test(r.error ?? '');
}

export function summarise(records: readonly RequestRecord[], dropped = 0, deadlineMs?: number): LatencySummary {
  const ok = records.filter((r) => r.ok);
  const lat = ok.map((r) => r.latencyMs);
  const matrix: Record<string, Record<string, number>> = {};
  for (const r of ok) {
    const row = (matrix[r.gateway] ??= {});
    row[r.servedBy] = (row[r.servedBy] ?? 0) + 1;
  }
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
    meanMs: round(mean(lat)),
    p50Ms: round(percentile(lat, 50)),
    p95Ms: round(percentile(lat, 95)),
    p99Ms: round(percentile(lat, 99)),
    localShare: roundShare(ok.length ? ok.filter((r) => r.servedBy === r.gateway).length / ok.length : NaN),
    matrix,
    errorKinds,
    ...(deadlineMs !== undefined ? { atDeadline: atDeadline(records, deadlineMs) } : {}),
  };
}

function atDeadline(records: readonly RequestRecord[], deadlineMs: number): NonNullable<LatencySummary['atDeadline']> {
  const lat: number[] = [];
  let late = 0;
  for (const r of records) {
    if (r.ok) lat.push(Math.min(r.latencyMs, deadlineMs));
    else if (timedOut(r)) {
      lat.push(deadlineMs);
      late++;
    }
  }
  return { deadlineMs, timedOut: late, meanMs: round(mean(lat)), p95Ms: round(percentile(lat, 95)) };
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

/** Mean share of successful requests served on `node` over the buckets in [fromMs, toMs). */
export function meanShare(buckets: readonly TimelineBucket[], node: string, fromMs: number, toMs: number): number {
  const window = buckets.filter((b) => b.tMs >= fromMs && b.tMs < toMs && b.requests > b.errors);
  return window.length ? window.reduce((s, b) => s + (b.servedShare[node] ?? 0), 0) / window.length : NaN;
}

/** Mean and coefficient of variation of the user-container time of successful requests (undefined under 50). */
export function serviceMoments(records: readonly RequestRecord[]): { meanMs: number; cv: number } | undefined {
  const v = records.filter((r) => r.ok && r.serviceMs !== undefined).map((r) => r.serviceMs!);
  if (v.length < 50) return undefined;
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1);
  return { meanMs: Math.round(mean * 100) / 100, cv: Math.round((Math.sqrt(variance) / mean) * 1000) / 1000 };
}

/**
 * Requests/s that entered each gateway over [fromMs, toMs): the load as the seed's arrivals drew it
 * (failed requests included: they arrived too), not the configured users × rate.
 */
export function arrivedRps(records: readonly RequestRecord[], fromMs: number, toMs: number): Record<string, number> {
  if (!(toMs > fromMs)) return {};
  const counts: Record<string, number> = {};
  for (const r of records) if (r.startMs >= fromMs && r.startMs < toMs) counts[r.gateway] = (counts[r.gateway] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([g, c]) => [g, Math.round(((c * 1000) / (toMs - fromMs)) * 100) / 100]));
}

/** A sample of the control plane's priority-0 shares (percent) per gateway and node. */
export type { ShareSample };

/** Largest per-node difference in percentage points between two share rows. */
export function sharesDistance(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): number {
  const nodes = new Set([...Object.keys(a), ...Object.keys(b)]);
  return Math.max(0, ...[...nodes].map((n) => Math.abs((a[n] ?? 0) - (b[n] ?? 0))));
}

/**
 * Time from `eventMs` until `gateway`'s assignment stays within `tolerancePct` points (per node) of
 * where it ends up before `untilMs`: the first sample from which every later one agrees.
 */
export function assignmentSettleMs(
  samples: readonly ShareSample[],
  gateway: string,
  eventMs: number,
  untilMs: number,
  tolerancePct = 10,
): number {
  const window = samples.filter((x) => x.tMs >= eventMs && x.tMs < untilMs);
  const last = window[window.length - 1];
  if (!last) return NaN;
  const final = last.shares[gateway] ?? {};
  const far = (x: ShareSample) => sharesDistance(x.shares[gateway] ?? {}, final) > tolerancePct;
  let settledAt = window[0]!.tMs;
  for (let i = 0; i < window.length; i++) if (far(window[i]!)) settledAt = window[i + 1]?.tMs ?? last.tMs;
  return settledAt - eventMs;
}

/**
 * Time from `eventMs` until `gateway`'s assignment comes within `tolerancePct` points (per node) of
 * `target` and stays there until `untilMs`: the first sample from which every later one is near it.
 * NaN when the last sample before `untilMs` is not near it (it never settled there).
 */
export function settledNearMs(
  samples: readonly ShareSample[],
  gateway: string,
  target: Readonly<Record<string, number>>,
  eventMs: number,
  untilMs: number,
  tolerancePct: number,
): number {
  const window = samples.filter((x) => x.tMs >= eventMs && x.tMs < untilMs);
  let from: number | undefined;
  for (const x of window) {
    if (sharesDistance(x.shares[gateway] ?? {}, target) > tolerancePct) from = undefined;
    else from ??= x.tMs;
  }
  return from === undefined ? NaN : from - eventMs;
}

/** Time from `eventMs` until `gateway`'s assignment first differs from its last one before the event. */
export function assignmentFirstMoveMs(
  samples: readonly ShareSample[],
  gateway: string,
  eventMs: number,
  untilMs: number,
  tolerancePct = 10,
): number {
  const before = [...samples].reverse().find((x) => x.tMs < eventMs)?.shares[gateway] ?? {};
  for (const x of samples) {
    if (x.tMs < eventMs || x.tMs >= untilMs) continue;
    if (sharesDistance(x.shares[gateway] ?? {}, before) > tolerancePct) return x.tMs - eventMs;
  }
  return NaN;
}
