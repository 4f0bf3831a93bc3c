import type { ModelStore } from '../model/store.js';
import { MAX_EXTENDER_PRIORITY } from './wire.js';
import { ResponseModel, type DemandAt } from './response-model.js';
import { storeRttView, type RttView } from './rtt-cache.js';
import { revisionServiceTimes } from './service-time.js';
import { asDemandAt, freshestDemand, largestDemand, podServedRps, type DemandEvidence } from './demand-input.js';

/**
 * Node scoring and filtering for new function pods, from the model alone (pure: the store is
 * in-memory state and `nowMs` is passed in).
 *
 * Score: the expected mean response time of the service's current demand with one more pod on node
 * n (response-model.ts), placed on the whole 0..10 scale between the best candidate (10, it alone)
 * and the worst (0). The scale is spanned by the candidates, not by the gain over today's pods: when demand
 * overloads the pods there are, any extra pod anywhere cuts the modelled mean by seconds, and a gain
 * ratio would rate the node far from the demand nearly as high as the node where it enters (10 vs 9
 * in the closed-loop demo, 50 scheduler points at weight 5 against PodTopologySpread's 200). Equal
 * scores are left to kube-scheduler's own plugins; the placement recorded here (`best`) prefers the
 * larger gain, then fewer pods, then `preference` (no pod there yet, demand enters there). When
 * there is no demand, or where the pod goes changes the mean by less than `minImprovementMs`, nodes
 * without a pod of the service win, nearest (demand-weighted RTT) to where traffic enters: the
 * service's own demand, else all services' demand.
 */

export interface ScoringTuning {
  /** Utilisation at which the modelled routing spills to the next node (matches the policy). */
  readonly targetUtilization: number;
  /** Squared coefficient of variation of service times (1 = exponential). */
  readonly serviceCv2: number;
  /** Only the largest this-many demand gateways are modelled (bounds the work per request). */
  readonly maxDemandGateways: number;
  /** Differences between candidates (and gains) below this, ms of mean response time, count as none. */
  readonly minImprovementMs: number;
}

export const DEFAULT_SCORING_TUNING: ScoringTuning = Object.freeze({
  targetUtilization: 0.8,
  serviceCv2: 1,
  maxDemandGateways: 32,
  minImprovementMs: 0.05,
});

export interface ScoreInput {
  readonly store: ModelStore;
  readonly service: string;
  readonly candidates: readonly string[];
  readonly nowMs: number;
  /** Pods of this service already placed but not ready, per node (this pod's own entry excluded). */
  readonly pending: ReadonlyMap<string, number>;
  readonly tuning?: Partial<ScoringTuning>;
  /** RTT lookups (e.g. an RttCache view); default: the store at `nowMs`. */
  readonly rtt?: RttView;
  /** Requests/s other gateways sent to each node in their last load report (default none). */
  readonly inflowRps?: ReadonlyMap<string, number>;
}

export interface NodeScore {
  readonly node: string;
  /** 0..MAX_EXTENDER_PRIORITY. */
  readonly score: number;
  /** Mean response time of the current demand with one more pod here, ms (demand mode). */
  readonly withPodMs: number;
  readonly improvementMs: number;
  /** Pods of the service on this node (any readiness, plus pending placements). */
  readonly existingPods: number;
  /** Secondary preference 0..1 used to break ties. */
  readonly preference: number;
}

export interface ScoreResult {
  readonly service: string;
  /** `demand`: scored by response-time improvement; `spread`: no usable demand signal. */
  readonly mode: 'demand' | 'spread';
  readonly demandRps: number;
  /** The demand modelled per gateway, with the input that decided each (largest first). */
  readonly demand: readonly DemandEvidence[];
  /** Mean response time of the current demand with the pods there are now, ms. */
  readonly currentMs: number;
  /** In candidate order. */
  readonly scores: readonly NodeScore[];
  /** The node kube-scheduler most likely picks from our side: highest score, then tie-breaks. */
  readonly best: string | undefined;
  /** What the response model was given per node with pods or candidate: pods serving (ready + pending) and service time, ms. */
  readonly inputs: ReadonlyArray<{ readonly node: string; readonly pods: number; readonly serviceTimeMs: number }>;
}

interface ServicePods {
  /** Ready, routable pods per node (the policy's backends). */
  readonly ready: Map<string, number>;
  /** All endpoints per node regardless of readiness. */
  readonly all: Map<string, number>;
  readonly capacityByNode: Map<string, number>;
  readonly meanCapacity: number | undefined;
}

function servicePods(store: ModelStore, service: string): ServicePods {
  const ready = new Map<string, number>();
  const all = new Map<string, number>();
  const capSum = new Map<string, number>();
  let capTotal = 0;
  let count = 0;
  for (const e of store.service(service)?.endpoints ?? []) {
    if (e.pending) continue;
    all.set(e.node, (all.get(e.node) ?? 0) + 1);
    capSum.set(e.node, (capSum.get(e.node) ?? 0) + e.capacity);
    capTotal += e.capacity;
    count++;
    if (e.ready && store.node(e.node)?.ready !== false) ready.set(e.node, (ready.get(e.node) ?? 0) + 1);
  }
  const capacityByNode = new Map<string, number>();
  for (const [node, sum] of capSum) capacityByNode.set(node, sum / all.get(node)!);
  return { ready, all, capacityByNode, meanCapacity: count > 0 ? capTotal / count : undefined };
}

function topDemand(entries: Iterable<[string, number]>, limit: number): DemandAt[] {
  return [...entries]
    .filter(([, rps]) => rps > 0)
    .map(([gateway, rps]) => ({ gateway, rps }))
    .sort((a, b) => b.rps - a.rps || (a.gateway < b.gateway ? -1 : 1))
    .slice(0, Math.max(1, limit));
}

/**
 * Demand of `service` per gateway: the freshest of the learned (LRS) demand and what the node's own
 * pods served (demand-input.ts), else the configured default for every node.
 */
export function serviceDemand(
  store: ModelStore,
  service: string,
  limit: number,
  nowMs: number,
  inflowRps: ReadonlyMap<string, number> = new Map(),
): DemandEvidence[] {
  const learned = store.demandByGateway(service);
  const evidence = freshestDemand({ lrsRps: learned, podServedRps: podServedRps(store, service, nowMs), inflowRps });
  if (evidence.length > 0 || learned.size > 0) return largestDemand(evidence, limit);
  const d = store.defaults.demandRps;
  return d > 0
    ? largestDemand(
        store.nodeNames().map((gateway) => ({ gateway, rps: d, lrsRps: 0, source: 'default' as const })),
        limit,
      )
    : [];
}

/**
 * A pod's own service time on `node`: the queue-proxy's user-container latency when the node's agent
 * reports it. The LRS estimate (what the gateways saw, minus the RTT) includes queue wait, so on the
 * node where demand just grew it makes a pod look slow exactly when one more pod there would help most
 * (the closed-loop demo placed pods away from the step node that way).
 */
function containerServiceMs(store: ModelStore, service: string, node: string, nowMs: number): number | undefined {
  const app = store.podSignal(service, node, nowMs)?.appLatencyMs;
  return app !== undefined && app > 0 ? app : undefined;
}

/** Demand of every service per gateway: where traffic enters the cluster. */
export function allTraffic(store: ModelStore, limit: number): DemandAt[] {
  const sum = new Map<string, number>();
  for (const s of store.services()) for (const [g, rps] of store.demandByGateway(s.name)) sum.set(g, (sum.get(g) ?? 0) + rps);
  return topDemand(sum, limit);
}

/**
 * Nodes the model does not know (no Node object, no topology entry) get score 0 and are never the
 * recorded placement: nothing is known of their distance to any gateway, so they cannot be preferred.
 */
export function scoreNodes(input: ScoreInput): ScoreResult {
  const known = input.candidates.filter((n) => input.store.node(n) !== undefined);
  if (known.length === input.candidates.length) return scoreKnownNodes(input);
  const result = scoreKnownNodes({ ...input, candidates: known });
  const byNode = new Map(result.scores.map((s) => [s.node, s]));
  const unknown = (node: string): NodeScore => ({
    node,
    score: 0,
    withPodMs: result.currentMs,
    improvementMs: 0,
    existingPods: 0,
    preference: 0,
  });
  return { ...result, scores: input.candidates.map((n) => byNode.get(n) ?? unknown(n)) };
}

function scoreKnownNodes(input: ScoreInput): ScoreResult {
  const t = { ...DEFAULT_SCORING_TUNING, ...input.tuning };
  const { store, service, nowMs } = input;
  const pods = servicePods(store, service);
  const defaults = store.defaults;
  const rtt = input.rtt ?? storeRttView(store, nowMs);
  const serving = new Map(pods.ready);
  for (const [node, n] of input.pending) if (n > 0) serving.set(node, (serving.get(node) ?? 0) + n);
  const existing = (node: string) => (pods.all.get(node) ?? 0) + (input.pending.get(node) ?? 0);

  // Every node is judged by the pods' own user-container time (service-time.ts): within a quarter of
  // the revision's pooled mean the pooled mean, beyond it the node's own; a node without pods of the
  // service runs the same container at the pooled mean. The LRS estimates (what the gateways saw,
  // less the RTT) averaged 43 ms against the pods' own 51-52 ms in the closed loop's seed 1, so an
  // empty cloud node credited with them modelled faster pods than the step node.
  const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
  const present = (v: number | undefined): v is number => v !== undefined && v > 0;
  const nodes = [...store.nodeNames()];
  const container = revisionServiceTimes(
    nodes.flatMap((node) => {
      const s = store.podSignal(service, node, nowMs);
      const ms = containerServiceMs(store, service, node, nowMs);
      return ms === undefined ? [] : [{ node, ms, rps: s?.windowRequestRps ?? s?.requestRps ?? 0 }];
    }),
  );
  const fallbackServiceMs =
    container.pooledMs ?? mean(nodes.map((n) => store.serviceTimeMs(service, n)).filter(present)) ?? defaults.serviceTimeMs;
  const serviceTimeMs = (n: string) => container.byNode.get(n) ?? store.serviceTimeMs(service, n) ?? fallbackServiceMs;
  const evidence = serviceDemand(store, service, t.maxDemandGateways, nowMs, input.inflowRps);
  const demand = asDemandAt(evidence);
  const model = new ResponseModel({
    demand,
    pods: serving,
    slotsPerPod: (n) => pods.capacityByNode.get(n) ?? pods.meanCapacity ?? defaults.capacity,
    serviceTimeMs,
    rttMs: rtt.rttMs,
    reachable: rtt.reachable,
    rows: rtt.rows,
    targetUtilization: t.targetUtilization,
    serviceCv2: t.serviceCv2,
  });
  const currentMs = model.currentMs();
  const demandAt = new Map(demand.map((d) => [d.gateway, d.rps] as const));
  const maxDemand = Math.max(0, ...demand.map((d) => d.rps));

  let scores: NodeScore[] = [];
  let mode: ScoreResult['mode'] = 'spread';
  if (model.demandRps > 0) {
    const withPod = model.withExtraPodMsAll(input.candidates);
    const raw = input.candidates.map((node, j) => {
      const withPodMs = withPod[j]!;
      return { node, withPodMs, improvementMs: Math.max(0, currentMs - withPodMs) };
    });
    const maxImp = Math.max(0, ...raw.map((r) => r.improvementMs));
    const bestMs = Math.min(...raw.map((r) => r.withPodMs));
    const spanMs = Math.max(...raw.map((r) => r.withPodMs)) - bestMs;
    if (maxImp >= t.minImprovementMs && spanMs >= t.minImprovementMs) {
      mode = 'demand';
      scores = raw.map((r) => {
        const pods = existing(r.node);
        const preference = 0.5 * (pods === 0 ? 1 : 0) + 0.5 * (maxDemand > 0 ? (demandAt.get(r.node) ?? 0) / maxDemand : 0);
        const score = demandScore(r.withPodMs, bestMs, spanMs);
        return { node: r.node, score, withPodMs: r.withPodMs, improvementMs: r.improvementMs, existingPods: pods, preference };
      });
    }
  }
  if (mode === 'spread') {
    const traffic = demand.length > 0 ? demand : allTraffic(store, t.maxDemandGateways);
    const closeness = closenessTo(store, rtt, traffic, input.candidates);
    scores = input.candidates.map((node) => {
      const pods = existing(node);
      const c = closeness.get(node) ?? 0;
      const score = clampScore(pods === 0 ? Math.round(5 + 5 * c) : Math.round((4 * c) / pods));
      return { node, score, withPodMs: currentMs, improvementMs: 0, existingPods: pods, preference: c };
    });
  }
  const inputs = [...new Set([...serving.keys(), ...input.candidates])].map((node) => ({
    node,
    pods: serving.get(node) ?? 0,
    serviceTimeMs: Math.round(serviceTimeMs(node) * 100) / 100,
  }));
  return { service, mode, demandRps: model.demandRps, demand: evidence, currentMs, scores, best: bestOf(scores), inputs };
}

/** 1 for the candidate with the lowest traffic-weighted RTT, 0 for the highest; all 0 without traffic. */
function closenessTo(store: ModelStore, rtt: RttView, traffic: readonly DemandAt[], candidates: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const total = traffic.reduce((s, d) => s + d.rps, 0);
  if (total <= 0) return out;
  const unreachableMs = store.defaults.rttMs * 4;
  const weighted = candidates.map((n) => {
    let sum = 0;
    for (const d of traffic) sum += d.rps * (rtt.reachable(d.gateway, n) ? rtt.rttMs(d.gateway, n) : unreachableMs);
    return sum / total;
  });
  const lo = Math.min(...weighted);
  const hi = Math.max(...weighted);
  candidates.forEach((n, i) => out.set(n, hi > lo ? (hi - weighted[i]!) / (hi - lo) : 1));
  return out;
}

/**
 * Only the best candidates (exactly the lowest modelled mean) get MAX_EXTENDER_PRIORITY; the others
 * share 0..MAX-1 by where they lie between the best and the worst. Rounding all of them onto 0..MAX
 * would give a node a hair worse than the best the same 10, and kube-scheduler's random tie-break
 * (`selectHost`) between equal totals then picks it half the time (the closed-loop seed 1: edge-2
 * and edge-1 both 10, the first pod on edge-2).
 */
function demandScore(withPodMs: number, bestMs: number, spanMs: number): number {
  if (withPodMs === bestMs) return MAX_EXTENDER_PRIORITY;
  const below = MAX_EXTENDER_PRIORITY - 1;
  return Math.min(below, clampScore(Math.round(below * (1 - (withPodMs - bestMs) / spanMs))));
}

function clampScore(s: number): number {
  return Math.min(MAX_EXTENDER_PRIORITY, Math.max(0, s));
}

function bestOf(scores: readonly NodeScore[]): string | undefined {
  let best: NodeScore | undefined;
  for (const s of scores) {
    if (
      !best ||
      s.score > best.score ||
      (s.score === best.score &&
        (s.improvementMs > best.improvementMs ||
          (s.improvementMs === best.improvementMs &&
            (s.existingPods < best.existingPods ||
              (s.existingPods === best.existingPods &&
                (s.preference > best.preference || (s.preference === best.preference && s.node < best.node)))))))
    ) {
      best = s;
    }
  }
  return best?.node;
}
