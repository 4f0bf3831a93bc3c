import type { PodSignalUpdate } from '../model/pod-signals.js';
import type { PodSignalRowMsg } from './protocol.js';

/**
 * Validation of the per-revision pod signals in a probe report (pure). A row is taken whole or
 * rejected whole; latencies of 0 mean "not measured".
 */

export type PodSignalRejectReason = 'unknown_service' | 'invalid_signal' | 'stale' | 'too_many_rows';

export interface PodSignalLimits {
  readonly maxRows: number;
  /** Latencies above this (ms) are not believed. */
  readonly maxLatencyMs: number;
  /** Requests/s, concurrency and queue depth above this are not believed. */
  readonly maxRate: number;
  /** Rows measured longer ago than this (agent clock vs its send time) are stale. */
  readonly staleAfterMs: number;
}

export const DEFAULT_POD_SIGNAL_LIMITS: PodSignalLimits = Object.freeze({
  maxRows: 4096,
  maxLatencyMs: 600_000,
  maxRate: 1e7,
  staleAfterMs: 10_000,
});

export interface AcceptedPodSignal {
  readonly service: string;
  /** The row without its time; `atMs` is set by the caller from its own clock minus `ageMs`. */
  readonly signal: Omit<PodSignalUpdate, 'atMs'>;
  readonly ageMs: number;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0);

export function validatePodSignals(
  rows: readonly PodSignalRowMsg[] | undefined,
  knownService: (s: string) => boolean,
  sentAtMs: number,
  limits: PodSignalLimits = DEFAULT_POD_SIGNAL_LIMITS,
): { accepted: AcceptedPodSignal[]; rejects: Map<PodSignalRejectReason, number> } {
  const accepted: AcceptedPodSignal[] = [];
  const rejects = new Map<PodSignalRejectReason, number>();
  const reject = (r: PodSignalRejectReason, n = 1) => rejects.set(r, (rejects.get(r) ?? 0) + n);
  const list = rows ?? [];
  if (list.length > limits.maxRows) {
    reject('too_many_rows', 1);
    return { accepted, rejects };
  }
  const seen = new Set<string>();
  for (const r of list) {
    const service = r.service ?? '';
    if (!knownService(service)) {
      reject('unknown_service');
      continue;
    }
    const pods = num(r.pods);
    const podsFailed = num(r.pods_failed);
    const rate = [num(r.request_rps), num(r.concurrency), num(r.queue_depth), num(r.window_request_rps)];
    const lat = [num(r.request_latency_ms), num(r.app_latency_ms), num(r.window_request_latency_ms)];
    const measuredAt = num(r.measured_at_unix_ms);
    const ok =
      Number.isInteger(pods) &&
      Number.isInteger(podsFailed) &&
      pods >= 0 &&
      podsFailed >= 0 &&
      rate.every((v) => Number.isFinite(v) && v >= 0 && v <= limits.maxRate) &&
      lat.every((v) => Number.isFinite(v) && v >= 0 && v <= limits.maxLatencyMs) &&
      Number.isFinite(measuredAt) &&
      measuredAt > 0 &&
      (r.latency_source ?? '') in { '': 1, usermetric: 1, autometric: 1 };
    if (!ok) {
      reject('invalid_signal');
      continue;
    }
    const ageMs = Math.max(0, sentAtMs - measuredAt);
    if (ageMs > limits.staleAfterMs) {
      reject('stale');
      continue;
    }
    if (seen.has(service)) continue;
    seen.add(service);
    const [requestLatencyMs, appLatencyMs, windowRequestLatencyMs] = lat as [number, number, number];
    const source = r.latency_source as 'usermetric' | 'autometric' | '' | undefined;
    accepted.push({
      service,
      ageMs,
      signal: {
        pods,
        podsFailed,
        requestRps: rate[0]!,
        concurrency: rate[1]!,
        queueDepth: rate[2]!,
        ...(rate[3]! > 0 ? { windowRequestRps: rate[3]! } : {}),
        ...(requestLatencyMs > 0 ? { requestLatencyMs } : {}),
        ...(appLatencyMs > 0 ? { appLatencyMs } : {}),
        ...(windowRequestLatencyMs > 0 ? { windowRequestLatencyMs } : {}),
        ...(source ? { latencySource: source } : {}),
      },
    });
  }
  return { accepted, rejects };
}
