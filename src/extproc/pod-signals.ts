import type { LoadView } from './picker.js';

/**
 * The pods' own load signals (queue-proxy: requests queued and in progress, service time), for an
 * injected source such as a queue-proxy stats scraper. They see load the picker's own counters miss
 * (requests routed by EDS weights, other ext_proc replicas) and a slow pod before its first slow
 * answer reaches us. No source ships yet: `ExtProcServerOptions.podLoad` is the plug.
 */
export interface PodLoad {
  /** Requests the pod is serving now. */
  readonly inflight?: number;
  /** Requests waiting in the pod's queue. */
  readonly queueDepth?: number;
  /** The pod's recent mean service time, in ms. */
  readonly serviceTimeMs?: number;
}

export interface PodLoadSource {
  /** Latest signal for endpoint `key` (`ip:port`), or undefined when there is none (or it is stale). */
  load(key: string, nowMs: number): PodLoad | undefined;
}

/** Own counters, raised to what the pods report: the larger count at the pod, the larger service time. */
export function withPodSignals(own: LoadView, pods: PodLoadSource, nowMs: () => number): LoadView {
  return {
    inflight: (key) => own.inflight(key),
    atPod(key) {
      const p = pods.load(key, nowMs());
      const mine = own.atPod(key);
      return p ? Math.max(mine, (p.inflight ?? 0) + (p.queueDepth ?? 0)) : mine;
    },
    costMs(key, now, priorMs) {
      const p = pods.load(key, now);
      const mine = own.costMs(key, now, priorMs);
      return p?.serviceTimeMs !== undefined && Number.isFinite(p.serviceTimeMs) ? Math.max(mine, p.serviceTimeMs) : mine;
    },
  };
}
