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

/**
 * Own counters where the picker feeds the pod, the pod's report where it does not. A pod with a
 * request of ours in flight is counted by us as it happens; its queue-proxy row is up to a scrape
 * interval (seconds) old and holds our own requests already, so raising our count to it would
 * count a queue we have since drained. Where we have nothing in flight, the row is all we
 * know of load others sent (EDS-routed requests, other ext_proc replicas) and is the floor. For the service time
 * the pod's own figure wins whenever it has one (fresh): the picker's samples run from the decision
 * to the end of the Process stream, so they also hold the gateway's and the network's delays, and
 * on busy cores the stream end arrives late (in the demo an idle entry pod's estimate read 131 ms
 * against a true 20 ms, and picks left it). The own estimate is the fallback where no pod reports.
 */
export function withPodSignals(own: LoadView, pods: PodLoadSource): LoadView {
  return {
    inflight: (key) => own.inflight(key),
    picksPerMs: (key, now) => own.picksPerMs(key, now),
    extraHoldMs: (key) => own.extraHoldMs(key),
    atPod(key, now) {
      const mine = own.atPod(key, now);
      if (own.inflight(key) > 0) return mine;
      const p = pods.load(key, now);
      return p ? Math.max(mine, (p.inflight ?? 0) + (p.queueDepth ?? 0)) : mine;
    },
    costMs(key, now, priorMs) {
      const p = pods.load(key, now);
      return p?.serviceTimeMs !== undefined && Number.isFinite(p.serviceTimeMs) ? p.serviceTimeMs : own.costMs(key, now, priorMs);
    },
  };
}

/** The model's view of the pods (queue-proxy rows the node agents report, per service and node). */
export interface PodSignalModel {
  readonly generation: number;
  services(): Iterable<{
    readonly name: string;
    readonly endpoints: readonly { readonly address: string; readonly port: number; readonly node: string }[];
  }>;
  podSignal(
    service: string,
    node: string,
    nowMs: number,
  ): { readonly pods: number; readonly queueDepth: number; readonly appLatencyMs?: number; readonly latencyAtMs?: number } | undefined;
}

/** A pod's own service time older than this is not used (it describes a load that has gone). */
export const POD_LATENCY_FRESH_MS = 10_000;

/**
 * Pod signals from the model: a row is per (service, node), so each endpoint of the service on
 * that node gets the node's queue depth per pod and the pods' mean time in the user container
 * (`appLatencyMs`, queue wait excluded: the picker counts the queue itself). Endpoint → (service,
 * node) is rebuilt once per model generation.
 */
export function modelPodLoad(model: PodSignalModel, keyOf: (e: { address: string; port: number }) => string): PodLoadSource {
  let generation = -1;
  let located = new Map<string, { service: string; node: string }>();
  return {
    load(key, nowMs) {
      if (generation !== model.generation) {
        generation = model.generation;
        located = new Map();
        for (const s of model.services()) for (const e of s.endpoints) located.set(keyOf(e), { service: s.name, node: e.node });
      }
      const at = located.get(key);
      const row = at && model.podSignal(at.service, at.node, nowMs);
      if (!row || !(row.pods > 0)) return undefined;
      const fresh = row.appLatencyMs !== undefined && row.latencyAtMs !== undefined && nowMs - row.latencyAtMs <= POD_LATENCY_FRESH_MS;
      return { queueDepth: row.queueDepth / row.pods, ...(fresh ? { serviceTimeMs: row.appLatencyMs } : {}) };
    },
  };
}
