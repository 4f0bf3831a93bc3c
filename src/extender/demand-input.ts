import type { ModelStore } from '../model/store.js';
import type { DemandAt } from './response-model.js';

/**
 * The extender's demand per gateway node: the freshest evidence of two (pure; time passed in).
 *
 * - `lrs`: what the gateways reported over LRS (RateEstimate in src/lrs). It restarts at once on a
 *   large step, but a step at a few requests per report is only a few standard deviations: the
 *   estimate can take a second or more to follow.
 * - `local-pods`: what the service's pods on that node served in the node agent's last queue-proxy
 *   scrape (the same pods and stats Knative's autoscaler scrapes every second,
 *   knative/serving `pkg/autoscaler/metrics/collector.go` scrapeTickInterval), minus what other
 *   gateways sent there in their last load report. Proxima routes each gateway's demand to its own
 *   node's pods first, so a step entering at a node shows up in its pods as soon as the autoscaler
 *   sees it. Served is a lower bound of demand: an overloaded pod serves no more than its slots.
 *
 * The larger wins, per node: demand that just rose is planned for when the autoscaler adds the pod
 * it calls for, instead of after the next load reports.
 */

/** `default`: nothing learned yet, the configured demand at every node. */
export type DemandSource = 'lrs' | 'local-pods' | 'default';

export interface DemandEvidence {
  readonly gateway: string;
  /** The demand used, requests/s: the larger of the two below. */
  readonly rps: number;
  readonly lrsRps: number;
  /** Served by the node's own pods for traffic that entered there (absent: no fresh pod signal). */
  readonly localPodsRps?: number;
  /** Which input decided. */
  readonly source: DemandSource;
}

export interface DemandInputs {
  /** LRS demand per gateway node. */
  readonly lrsRps: ReadonlyMap<string, number>;
  /** Requests/s the service's pods on each node served in their last scrape (fresh rows only). */
  readonly podServedRps: ReadonlyMap<string, number>;
  /** Requests/s other gateways sent to each node in their last load report. */
  readonly inflowRps: ReadonlyMap<string, number>;
}

/** Per gateway node, in no particular order; nodes with neither input positive are left out. */
export function freshestDemand(inputs: DemandInputs): DemandEvidence[] {
  const out: DemandEvidence[] = [];
  const nodes = new Set([...inputs.lrsRps.keys(), ...inputs.podServedRps.keys()]);
  for (const gateway of nodes) {
    const lrsRps = Math.max(0, inputs.lrsRps.get(gateway) ?? 0);
    const served = inputs.podServedRps.get(gateway);
    const localPodsRps = served === undefined ? undefined : Math.max(0, served - (inputs.inflowRps.get(gateway) ?? 0));
    const fromPods = localPodsRps !== undefined && localPodsRps > lrsRps;
    const rps = fromPods ? localPodsRps : lrsRps;
    if (!(rps > 0)) continue;
    out.push({ gateway, rps, lrsRps, ...(localPodsRps !== undefined ? { localPodsRps } : {}), source: fromPods ? 'local-pods' : 'lrs' });
  }
  return out;
}

/** The fresh queue-proxy served rate of `service`'s pods per node, from the model. */
export function podServedRps(store: ModelStore, service: string, nowMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const node of store.nodeNames()) {
    const s = store.podSignal(service, node, nowMs);
    if (s && s.pods > 0 && Number.isFinite(s.requestRps) && s.requestRps >= 0) out.set(node, s.requestRps);
  }
  return out;
}

/** The largest `limit` entries by demand (ties by name), as the response model takes them. */
export function largestDemand(evidence: readonly DemandEvidence[], limit: number): DemandEvidence[] {
  return [...evidence].sort((a, b) => b.rps - a.rps || (a.gateway < b.gateway ? -1 : 1)).slice(0, Math.max(1, limit));
}

export function asDemandAt(evidence: readonly DemandEvidence[]): DemandAt[] {
  return evidence.map((e) => ({ gateway: e.gateway, rps: e.rps }));
}
