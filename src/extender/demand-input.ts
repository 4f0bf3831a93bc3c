import type { ModelStore } from '../model/store.js';
import type { GatewayAssignment } from '../policy/types.js';
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
 *
 * What other gateways send a node is known two ways, and the larger is taken off its pods' rate:
 * their last load report, and the split the control plane has pushed them (their LRS demand × the
 * node's share). The second knows of a spill as soon as it is pushed: right after a step, the step
 * gateway's spill reaches the neighbour's pods a report before the gateway reports it, and would
 * otherwise look like demand entering the neighbour.
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

/** Requests/s each node gets from other gateways by the assignments in force (priority-0 weights × their demand). */
export function plannedInflowRps(
  assignments: ReadonlyMap<string, GatewayAssignment> | undefined,
  demandRps: ReadonlyMap<string, number>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [gateway, a] of assignments ?? []) {
    const rps = demandRps.get(gateway) ?? 0;
    if (!(rps > 0)) continue;
    const active = a.localities.filter((l) => l.priority === 0);
    const total = active.reduce((sum, l) => sum + l.weight, 0);
    if (!(total > 0)) continue;
    for (const l of active) if (l.node !== gateway) out.set(l.node, (out.get(l.node) ?? 0) + (rps * l.weight) / total);
  }
  return out;
}

/** Per node, the larger of two inflow estimates. */
export function largerInflow(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map(a);
  for (const [node, rps] of b) out.set(node, Math.max(out.get(node) ?? 0, rps));
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
