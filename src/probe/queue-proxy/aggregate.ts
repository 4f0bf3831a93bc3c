import type { PodSignal } from './pod-tracker.js';

/**
 * What one node agent says about one revision (service) on its node: the sum or mean over the
 * revision's pods there. Pure.
 */
export interface NodeServiceSignal {
  readonly service: string;
  /** Pods scraped successfully this round, and those that failed (timeout, refused, garbage). */
  readonly pods: number;
  readonly podsFailed: number;
  /** Requests/s over every pod. */
  readonly requestRps: number;
  /** Requests in the pods on average (queued included), summed over pods. */
  readonly concurrency: number;
  /** Mean time a request spent in a pod over the last 10 s, queue wait included, ms (completion-weighted over pods). */
  readonly requestLatencyMs?: number;
  /** Mean time in the user container over the last 10 s, ms (completion-weighted over pods). */
  readonly appLatencyMs?: number;
  /** Requests/s over the window of requestLatencyMs, summed over pods (the rate that latency was seen at). */
  readonly windowRequestRps?: number;
  /** Requests in the queue-proxies now, summed. */
  readonly queueDepth: number;
  /** FaaSt's P_j: per pod, request latency over the last 10 s; averaged over the pods that have one. */
  readonly windowRequestLatencyMs?: number;
  /** Where requestLatencyMs came from: the user-metrics histograms, or Little's law on the 9090 stat. */
  readonly latencySource: 'usermetric' | 'autometric' | 'none';
  /** Pods that restarted since the previous round. */
  readonly resets: number;
}

export function aggregatePods(service: string, signals: readonly PodSignal[], podsFailed: number): NodeServiceSignal {
  let requestRps = 0;
  let concurrency = 0;
  let queueDepth = 0;
  let reqCount = 0;
  let reqSum = 0;
  let appCount = 0;
  let appSum = 0;
  let statRps = 0;
  let statConcurrency = 0;
  let statPods = 0;
  let windowSum = 0;
  let windowPods = 0;
  let resets = 0;
  let windowRps = 0;
  for (const s of signals) {
    windowRps += s.windowRequestRps ?? 0;
    requestRps += s.requestRps ?? 0;
    concurrency += s.concurrency ?? 0;
    queueDepth += s.queueDepth ?? 0;
    if (s.reset) resets++;
    if (s.windowRequest) {
      reqCount += s.windowRequest.count;
      reqSum += s.windowRequest.sumMs;
    }
    if (s.windowApp) {
      appCount += s.windowApp.count;
      appSum += s.windowApp.sumMs;
    }
    if (s.littleMs !== undefined) {
      statRps += s.requestRps ?? 0;
      statConcurrency += s.concurrency ?? 0;
      statPods++;
    }
    if (s.windowRequestLatencyMs !== undefined) {
      windowSum += s.windowRequestLatencyMs;
      windowPods++;
    }
  }
  const fromHistograms = reqCount > 0 ? reqSum / reqCount : undefined;
  const fromLittle = statPods > 0 && statRps > 0 ? (statConcurrency / statRps) * 1000 : undefined;
  const requestLatencyMs = fromHistograms ?? fromLittle;
  return {
    service,
    pods: signals.length,
    podsFailed,
    requestRps,
    concurrency,
    ...(requestLatencyMs !== undefined ? { requestLatencyMs } : {}),
    ...(appCount > 0 ? { appLatencyMs: appSum / appCount } : {}),
    ...(fromHistograms !== undefined ? { windowRequestRps: windowRps } : {}),
    queueDepth,
    ...(windowPods > 0 ? { windowRequestLatencyMs: windowSum / windowPods } : {}),
    latencySource: fromHistograms !== undefined ? 'usermetric' : fromLittle !== undefined ? 'autometric' : 'none',
    resets,
  };
}
