/**
 * The `proxima` policy as it was before its solve was memoised and made lazy (issue 14, at
 * e6fedaac): kept verbatim as a reference, so that tests can check the optimised policy returns the
 * same assignments on random inputs and `npm run bench` can time both in one run. Not used by the
 * control plane. Behaviour changes are ported in their plain form so the comparison stays like for
 * like: the per-gateway hysteresis that lets traffic come home (issue 21).
 */

import type { NodeQueueModel } from '../../src/policy/queueing.js';
import { meanSojournMs, meanWaitMs, saturationRps, serviceTimeFromObservedMs } from '../../src/policy/queueing.js';
import { pct, primaryShares, safeDemand, slotsPerPod } from '../../src/policy/shares.js';
import { OVERFLOW_COST_MS, overflowSegments, segmentsFromCurve, solveTransport } from '../../src/policy/flow.js';
import type { CostSegment } from '../../src/policy/flow.js';
import { assemble, byLatency, sharesToLocalities } from '../../src/policy/tiers.js';
import { RowMemo } from '../../src/policy/row-memo.js';
import type { GatewayAssignment, LocalityAssignment, NodeModelView, Policy, PolicyInput } from '../../src/policy/types.js';

interface ProximaOptions {
  /** Highest utilisation a node is planned for before traffic spills elsewhere (0..1). */
  readonly targetUtilisation: number;
  /** Keep a gateway's previous assignment while every share moved less than this (0..1). */
  readonly hysteresisShare: number;
  /**
   * Keep the whole previous assignment of a service while its predicted mean response time under
   * the current inputs is within this fraction of the new optimum's (flat optima, near-ties between
   * equally good spill targets, estimation noise) and it plans no node past the target.
   */
  readonly hysteresisCost: number;
  /** Shares below this are dropped (a locality is not worth a push for < 1 % of traffic). */
  readonly minShare: number;
  /** Squared coefficient of variation assumed for service times (1 = exponential, conservative). */
  readonly serviceCv2: number;
  /** Segments of the queueing cost curve per node. */
  readonly segments: number;
  /**
   * Use one service time for every node of the service: the load-weighted mean of the per-node
   * estimates. Pods of one revision run the same image with the same resources, and per-node
   * estimates from gateway load reports (Little's law on snapshot in-progress counts) differ mostly by
   * noise, which would otherwise pull traffic off a local pod towards whichever node looked faster.
   */
  readonly poolServiceTime: boolean;
}

const DEFAULT_PROXIMA_OPTIONS: ProximaOptions = Object.freeze({
  targetUtilisation: 0.8,
  hysteresisShare: 0.05,
  hysteresisCost: 0.05,
  minShare: 0.01,
  serviceCv2: 1,
  segments: 12,
  poolServiceTime: true,
});

/** Load-weighted mean of per-node service times (plain mean when no load is known); undefined without estimates. */
function pooledServiceTimeMs(estimates: ReadonlyArray<{ serviceTimeMs: number; loadRps: number }>): number | undefined {
  const known = estimates.filter((m) => m.serviceTimeMs > 0);
  if (known.length === 0) return undefined;
  const weight = known.reduce((s, m) => s + m.loadRps, 0);
  return weight > 0
    ? known.reduce((s, m) => s + m.serviceTimeMs * m.loadRps, 0) / weight
    : known.reduce((s, m) => s + m.serviceTimeMs, 0) / known.length;
}

/** A node's predicted wait must be at least this (ms) before its measured wait calibrates the model: smaller waits are noise. */
const MIN_CALIBRATION_WAIT_MS = 1;

/**
 * How variable service is, from what the pods measured: the M/G/c wait scales with (1 + cv²)/2, so
 * the ratio of the measured queue wait to the wait predicted with cv² = 1 gives the cv² that makes the
 * model reproduce the measured queueing at the current operating point (pooled over the nodes whose
 * predicted wait is large enough to measure; the pods run one image). Capped at `maxCv2`, the
 * assumed default: a queue still filling after a load change (the window holds a transient) looks
 * like burstiness, and must not make the model more pessimistic than its assumption. Undefined
 * without such nodes.
 */
function calibratedCv2(
  input: PolicyInput,
  maxCv2: number,
  nodes: ReadonlyArray<{ node: string; shape: Omit<NodeQueueModel, 'serviceTimeMs' | 'serviceCv2'>; serviceTimeMs: number }>,
): number | undefined {
  let measured = 0;
  let predicted = 0;
  for (const n of nodes) {
    const w = input.podQueueWait?.(n.node);
    if (!w || !(w.rps > 0) || !(w.waitMs >= 0) || !(n.serviceTimeMs > 0)) continue;
    const unit = meanWaitMs({ ...n.shape, serviceTimeMs: n.serviceTimeMs, serviceCv2: 1 }, w.rps);
    if (!Number.isFinite(unit) || unit < MIN_CALIBRATION_WAIT_MS) continue;
    measured += w.waitMs * w.rps;
    predicted += unit * w.rps;
  }
  if (!(predicted > 0)) return undefined;
  return Math.min(maxCv2, Math.max(0, (2 * measured) / predicted - 1));
}

interface NodeEstimate {
  readonly model: NodeQueueModel;
  readonly loadRps: number;
  readonly how: string;
}

/**
 * The queueing model of every backend node. Service time: the pods' own app latency (the user
 * container alone, a pure service time) as measured, per node — a pod that slows down shows here;
 * otherwise an observed latency with queueing in it (LRS), de-queued with the model and pooled over
 * those nodes (see `poolServiceTime`). Service variability: calibrated from the pods' measured
 * queue wait when they report one, else `serviceCv2`.
 */
function nodeEstimates(input: PolicyInput, o: ProximaOptions): NodeEstimate[] {
  const raw = input.backends.map((b) => {
    const shape = { pods: b.readyEndpoints, slotsPerPod: slotsPerPod(b) };
    const observed = input.serviceTimeMs(b.node);
    const loadRps = input.serviceLoadRps?.(b.node);
    return { node: b.node, shape, observed: observed > 0 ? observed : 0, loadRps, pure: loadRps === undefined };
  });
  const cv2 = calibratedCv2(
    input,
    o.serviceCv2,
    raw.filter((r) => r.pure).map((r) => ({ node: r.node, shape: r.shape, serviceTimeMs: r.observed })),
  );
  const serviceCv2 = cv2 ?? o.serviceCv2;
  const dequeued = raw.map((r) => {
    if (r.pure) return { ...r, serviceTimeMs: r.observed, rate: input.podQueueWait?.(r.node)?.rps ?? 0 };
    const rate = r.loadRps !== undefined && r.loadRps > 0 ? r.loadRps : 0;
    return { ...r, serviceTimeMs: serviceTimeFromObservedMs({ ...r.shape, serviceCv2 }, r.observed, rate), rate };
  });
  const pooled = o.poolServiceTime
    ? pooledServiceTimeMs(dequeued.filter((d) => !d.pure).map((d) => ({ serviceTimeMs: d.serviceTimeMs, loadRps: d.rate })))
    : undefined;
  const cv2How = cv2 !== undefined ? `cv² ${cv2.toFixed(2)} calibrated on the pods' queue wait` : `cv² ${serviceCv2} assumed`;
  return dequeued.map((d) => {
    const serviceTimeMs = d.pure ? d.serviceTimeMs : (pooled ?? d.serviceTimeMs);
    const how = d.pure
      ? `measured by the pods (app latency); ${cv2How}`
      : `observed latency de-queued at ${d.rate.toFixed(1)} rps${pooled !== undefined ? ', pooled over the nodes without pod measurements' : ''}; ${cv2How}`;
    return { model: { ...d.shape, serviceTimeMs, serviceCv2 }, loadRps: d.rate, how };
  });
}

/**
 * The default policy (docs/architecture.md, "Policies"): per service and jointly for all gateways,
 * minimise the expected response time RTT + service + queueing (M/G/c per pod) with no node planned
 * past `targetUtilisation`, solved exactly as a convex min-cost flow. Demand past every node's target
 * spreads in proportion to capacity. Without demand: local when a local pod is ready, else nearest.
 */
export function createProximaBeforePolicy(options: Partial<ProximaOptions> = {}): Policy {
  const o: ProximaOptions = { ...DEFAULT_PROXIMA_OPTIONS, ...options };
  return {
    name: 'proxima',
    // Idle gateways stay out of the solve (solveShares) and read only its potentials and their own row.
    idleRowIndependent: true,
    reads: ['rtt', 'demand', 'service-time'],
    modelView(input: PolicyInput): Record<string, NodeModelView> {
      const backends = input.backends.filter((b) => b.readyEndpoints > 0);
      const estimates = nodeEstimates({ ...input, backends }, o);
      return Object.fromEntries(
        backends.map((b, i) => [
          b.node,
          { serviceTimeMs: estimates[i]!.model.serviceTimeMs, serviceCv2: estimates[i]!.model.serviceCv2, how: estimates[i]!.how },
        ]),
      );
    },
    assign(input: PolicyInput): Map<string, GatewayAssignment> {
      const out = new Map<string, GatewayAssignment>();
      const backends = input.backends.filter((b) => b.readyEndpoints > 0);
      if (backends.length === 0) {
        for (const g of input.gateways) out.set(g, { service: input.service, localities: [], reason: 'no ready endpoints' });
        return out;
      }
      const view: PolicyInput = { ...memoizeInput(input), backends };
      const demand = input.gateways.map((g) => safeDemand(input, g));
      const totalRps = demand.reduce((a, b) => a + b, 0);
      const solved = totalRps > 0 ? withDemand(view, demand, totalRps, o) : undefined;
      const computed = solved?.computed ?? withoutDemand(view);
      const backendNodes = new Set(backends.map((b) => b.node));
      // Traffic comes home (src/policy/hysteresis.ts, bringsTrafficHome) where the local pods have room.
      const home = new Set(
        input.gateways.filter((g) => {
          if (!solved || !input.previous || !backendNodes.has(g)) return false;
          if (!(solved.utilisation(g) < o.targetUtilisation - o.hysteresisShare)) return false;
          const before = primaryShares(input.previous.get(g)).get(g) ?? 0;
          const after = computed.get(g)!.shares.get(g) ?? 0;
          return after > before && (after - before > o.hysteresisShare || after >= 1 - 1e-9);
        }),
      );
      const keepRest = solved && !solved.overloaded ? previousGoodEnough(view, demand, solved, home, o) : undefined;
      const one = (g: string): GatewayAssignment => {
        if (keepRest && !home.has(g)) {
          const kept = input.previous!.get(g)!.localities.filter((l) => l.priority === 0);
          return keepFailoverOrder(
            view,
            g,
            assemble(view, g, [...kept], `kept: ${keepRest}; now: ${computed.get(g)!.reason()}`),
            input.previous?.get(g),
          );
        }
        const next = computed.get(g)!;
        return keepFailoverOrder(view, g, applyHysteresis(view, g, next.shares, next.reason(), o, home.has(g)), input.previous?.get(g));
      };
      // An idle gateway that is not a backend itself is a function of its latency row and its previous
      // assignment only, and most gateways share both (engine-interned localities): compute once per class.
      const memo = new RowMemo<Array<{ previous: readonly LocalityAssignment[] | undefined; value: GatewayAssignment }>>(view);
      input.gateways.forEach((g, gi) => {
        if (input.rows && !input.rows.has(g)) return;
        if (demand[gi]! > 0 || backendNodes.has(g)) return out.set(g, one(g));
        const previous = input.previous?.get(g)?.localities;
        const row = memo.row(g);
        let entries = memo.get(row);
        if (!entries) memo.set(row, (entries = []));
        const hit = entries.find((e) => e.previous === previous);
        if (hit) return out.set(g, { ...hit.value });
        const value = one(g);
        entries.push({ previous, value });
        return out.set(g, value);
      });
      return out;
    },
  };
}

export const proximaBeforePolicy: Policy = createProximaBeforePolicy();

interface Computed {
  readonly shares: Map<string, number>;
  /** Built on demand: most gateways' assignments are shared with another gateway's. */
  readonly reason: () => string;
}

/** No demand known: everything to the local pod, else to the nearest reachable node. */
function withoutDemand(input: PolicyInput): Map<string, Computed> {
  const out = new Map<string, Computed>();
  for (const g of input.gateways) {
    const best = byLatency(input, g).find((b) => input.reachable(g, b.node));
    out.set(
      g,
      best
        ? {
            shares: new Map([[best.node, 1]]),
            reason: () =>
              `no demand known: ${best.node === g ? 'local' : `nearest ${best.node} at ${input.rttMs(g, best.node).toFixed(1)} ms`}`,
          }
        : { shares: new Map(), reason: () => 'no reachable node with ready endpoints' },
    );
  }
  return out;
}

interface Solved {
  readonly computed: Map<string, Computed>;
  readonly models: NodeQueueModel[];
  readonly overloaded: boolean;
  readonly utilisation: (node: string) => number;
}

/** Predicted mean response time (ms) of per-gateway shares under the policy's own model. */
function predictedMeanMs(
  input: PolicyInput,
  demand: readonly number[],
  shares: (g: string) => ReadonlyMap<string, number>,
  models: readonly NodeQueueModel[],
  maxUtilisation: number,
): number {
  const index = new Map(input.backends.map((b, i) => [b.node, i] as const));
  const nodeRps = new Array<number>(models.length).fill(0);
  let total = 0;
  input.gateways.forEach((g, gi) => {
    total += demand[gi]!;
    for (const [n, s] of shares(g)) {
      const i = index.get(n)!;
      nodeRps[i] = nodeRps[i]! + s * demand[gi]!;
    }
  });
  if (nodeRps.some((rps, i) => rps > maxUtilisation * saturationRps(models[i]!))) return Infinity;
  let sum = 0;
  input.gateways.forEach((g, gi) => {
    for (const [n, s] of shares(g)) {
      const i = index.get(n)!;
      sum += s * demand[gi]! * (input.rttMs(g, n) + meanSojournMs(models[i]!, nodeRps[i]!));
    }
  });
  return total > 0 ? sum / total : 0;
}

/** Why the previous assignment is kept at every gateway but those in `home`, or undefined when it should not be. */
function previousGoodEnough(
  input: PolicyInput,
  demand: readonly number[],
  solved: Solved,
  home: ReadonlySet<string>,
  o: ProximaOptions,
): string | undefined {
  const prev = input.previous;
  if (!prev || o.hysteresisCost <= 0) return undefined;
  const prevShares = new Map(
    input.gateways.map((g) => [g, home.has(g) ? solved.computed.get(g)!.shares : primaryShares(prev.get(g))] as const),
  );
  for (const g of input.gateways) {
    if (home.has(g)) continue;
    const p = prevShares.get(g)!;
    if (p.size === 0) return undefined;
    for (const n of p.keys()) if (!input.backends.some((b) => b.node === n) || !input.reachable(g, n)) return undefined;
  }
  // Slack above the target: near full load, demand noise alone would otherwise flip spill on and off.
  const limit = Math.min(0.95, o.targetUtilisation + 2 * o.hysteresisShare);
  const before = predictedMeanMs(input, demand, (g) => prevShares.get(g)!, solved.models, limit);
  const after = predictedMeanMs(input, demand, (g) => solved.computed.get(g)!.shares, solved.models, limit);
  if (!(before <= after * (1 + o.hysteresisCost))) return undefined;
  const mix = home.size > 0 ? ` (with ${[...home].join(', ')} on the new one)` : '';
  return `previous assignment${mix} predicts ${before.toFixed(1)} ms vs ${after.toFixed(1)} ms for the new optimum (< ${(o.hysteresisCost * 100).toFixed(0)}% better)`;
}

function withDemand(input: PolicyInput, demand: number[], totalRps: number, o: ProximaOptions): Solved {
  const models: NodeQueueModel[] = nodeEstimates(input, o).map((e) => e.model);
  // A gateway without demand still gets a route: where the marginal cost is least (see solveShares).
  const solved = solveShares(input, {
    models,
    maxUtilisation: o.targetUtilisation,
    segments: o.segments,
    spacingPower: 1.5,
    demandRps: demand,
  });
  const out = new Map<string, Computed>();
  const backendIndex = new Map(input.backends.map((b, i) => [b.node, i] as const));
  input.gateways.forEach((g, gi) => {
    const shares = pruneShares(solved.shares.get(g)!, o.minShare);
    const reason = (): string => {
      const parts = [...shares]
        .sort((a, b) => b[1] - a[1])
        .map(([n, s]) => {
          const i = backendIndex.get(n)!;
          const util = (solved.nodeRps.get(n) ?? 0) / saturationRps(models[i]!);
          return `${n} ${pct(s)} (rtt ${input.rttMs(g, n).toFixed(1)} ms, service ${models[i]!.serviceTimeMs.toFixed(1)} ms, node util ${pct(util)})`;
        });
      const head = `demand ${demand[gi]!.toFixed(1)} rps of ${totalRps.toFixed(1)}${solved.overloaded ? '; OVERLOADED: demand exceeds every node at target utilisation, spread by capacity' : ''}`;
      return shares.size ? `${head}: ${parts.join(', ')}` : `${head}: no reachable node with ready endpoints`;
    };
    out.set(g, { shares, reason });
  });
  const utilisation = (n: string): number => {
    const i = backendIndex.get(n);
    return i === undefined ? 0 : (solved.nodeRps.get(n) ?? 0) / saturationRps(models[i]!);
  };
  return { computed: out, models, overloaded: solved.overloaded, utilisation };
}

function applyHysteresis(
  input: PolicyInput,
  gateway: string,
  shares: Map<string, number>,
  reason: string,
  o: ProximaOptions,
  bringHome: boolean,
): GatewayAssignment {
  if (shares.size === 0) return { service: input.service, localities: [], reason };
  const prev = primaryShares(input.previous?.get(gateway));
  if (prev.size > 0) {
    if (bringHome) {
      const home = `local ${pct(prev.get(gateway) ?? 0)} → ${pct(shares.get(gateway) ?? 0)}, the previous spill dropped`;
      return assemble(input, gateway, sharesToLocalities(shares, 0), `${home}; ${reason}`);
    }
    const usable = [...prev.keys()].every((n) => input.backends.some((b) => b.node === n) && input.reachable(gateway, n));
    const nodes = new Set([...prev.keys(), ...shares.keys()]);
    const maxMove = Math.max(...[...nodes].map((n) => Math.abs((prev.get(n) ?? 0) - (shares.get(n) ?? 0))));
    if (usable && maxMove < o.hysteresisShare) {
      const kept = input.previous!.get(gateway)!.localities.filter((l) => l.priority === 0);
      return assemble(
        input,
        gateway,
        [...kept],
        `kept (largest share change ${(maxMove * 100).toFixed(1)} points < ${(o.hysteresisShare * 100).toFixed(0)}); now: ${reason}`,
      );
    }
  }
  return assemble(input, gateway, sharesToLocalities(shares, 0), reason);
}
interface SolveOptions {
  /** Node models indexed like `input.backends`. */
  readonly models: readonly NodeQueueModel[];
  /** Fraction of saturation each node may take before overflow; < 1. */
  readonly maxUtilisation: number;
  /** Segments of the queueing cost curve below `maxUtilisation`. */
  readonly segments: number;
  /** Breakpoint spacing: 1 = uniform, 2 = denser near the cap (where the curve bends). */
  readonly spacingPower: number;
  /** Demand per gateway, indexed like `input.gateways`. */
  readonly demandRps: readonly number[];
}

interface SharesResult {
  /** Per gateway: node → share of its traffic (sums to 1 when it has an allowed node). */
  readonly shares: Map<string, Map<string, number>>;
  /** Arrival rate per node in the solution (requests/s). */
  readonly nodeRps: Map<string, number>;
  /** Some node had to take traffic past `maxUtilisation` (demand exceeds what fits). */
  readonly overloaded: boolean;
}

/**
 * Solve the joint assignment of all gateways of one service with the given node models.
 *
 * Only gateways with demand enter the solver, and those with identical (RTT, reachability) rows
 * enter as one commodity carrying their summed demand (their optimal shares can be taken equal).
 * A gateway without demand gets all of its (zero) traffic at the node where one more request costs
 * least: RTT plus the node's marginal cost in the solved flow (the dual potential, which counts
 * re-routing other gateways' traffic), i.e. where an infinitesimal demand would go. With 1,000
 * gateways and demand on a tenth of them this turns a 1,000-commodity solve into a ~100-commodity one
 * plus O(backends) per idle gateway.
 */
function solveShares(input: PolicyInput, o: SolveOptions): SharesResult {
  const nodes = input.backends;
  const N = nodes.length;
  const nodeSegments: CostSegment[][] = nodes.map((_, i) => {
    const m = o.models[i]!;
    const sat = saturationRps(m);
    const cap = o.maxUtilisation * sat;
    const breaks: number[] = [];
    for (let k = 1; k <= o.segments; k++) breaks.push(cap * (1 - Math.pow(1 - k / o.segments, o.spacingPower)));
    const segs = Number.isFinite(cap)
      ? segmentsFromCurve(breaks, (rps) => rps * meanSojournMs(m, rps))
      : [{ capacityRps: Infinity, costMs: m.serviceTimeMs }];
    const lastCost = segs[segs.length - 1]?.costMs ?? m.serviceTimeMs;
    return Number.isFinite(cap) ? [...segs, ...overflowSegments(sat, lastCost)] : segs;
  });
  const nodeIndex = new Map<string, number>();
  nodes.forEach((b, i) => nodeIndex.set(b.node, i));

  // Commodities: gateways with demand, grouped by identical latency row.
  const memo = new RowMemo<number>(input);
  const commodityOf = new Int32Array(input.gateways.length).fill(-1);
  const linkCostMs: number[][] = [];
  const demandRps: number[] = [];
  const guess: number[] = [];
  input.gateways.forEach((g, gi) => {
    const d = o.demandRps[gi]!;
    if (!(d > 0)) return;
    const row = memo.row(g);
    const known = memo.get(row);
    if (known !== undefined) {
      commodityOf[gi] = known;
      demandRps[known] = demandRps[known]! + d;
      return;
    }
    const c = demandRps.length;
    memo.set(row, c);
    commodityOf[gi] = c;
    demandRps.push(d);
    const costs = new Array<number>(N);
    for (let ni = 0; ni < N; ni++) costs[ni] = row.reachable[ni] === 1 ? Math.max(0, row.rttMs[ni]!) : Infinity;
    linkCostMs.push(costs);
    // Guess: the gateway's local node, else its cheapest by RTT + first-segment cost.
    const local = nodeIndex.get(g);
    let best = local !== undefined && costs[local] !== Infinity ? local : -1;
    let bestCost = Infinity;
    for (let ni = 0; best !== local && ni < N; ni++) {
      const cost = costs[ni]! + (nodeSegments[ni]![0]?.costMs ?? Infinity);
      if (costs[ni] !== Infinity && cost < bestCost) {
        best = ni;
        bestCost = cost;
      }
    }
    guess.push(best);
  });
  const sol = solveTransport({ demandRps, linkCostMs, nodeSegments, guess });

  const nodeLoad = new Array<number>(N).fill(0);
  const commodityShares = sol.flowRps.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    const m = new Map<string, number>();
    row.forEach((x, ni) => {
      nodeLoad[ni] = nodeLoad[ni]! + x;
      if (total > 0 && x > 0) m.set(nodes[ni]!.node, x / total);
    });
    return m;
  });
  const potentialMs = marginalCostsMs(sol.flowRps, linkCostMs, nodeSegments, nodeLoad);
  const shares = new Map<string, Map<string, number>>();
  input.gateways.forEach((g, gi) => {
    const c = commodityOf[gi]!;
    shares.set(g, c >= 0 ? new Map(commodityShares[c]!) : idleShares(input, g, nodeIndex.get(g), potentialMs));
  });
  const nodeRps = new Map<string, number>(nodes.map((b, ni) => [b.node, nodeLoad[ni]!] as const));
  const overloaded = nodeSegments.some((segs, ni) => {
    const limit = segs.filter((s) => s.costMs < OVERFLOW_COST_MS).reduce((a, s) => a + s.capacityRps, 0);
    return nodeLoad[ni]! > limit * (1 + 1e-9);
  });
  return { shares, nodeRps, overloaded };
}

/** All of an idle gateway's share at the node where RTT + marginal cost is least (local on ties). */
function idleShares(input: PolicyInput, gateway: string, local: number | undefined, potentialMs: readonly number[]): Map<string, number> {
  let best = -1;
  let bestCost = Infinity;
  for (let ni = 0; ni < potentialMs.length; ni++) {
    const node = input.backends[ni]!.node;
    if (!input.reachable(gateway, node)) continue;
    const cost = Math.max(0, input.rttMs(gateway, node)) + potentialMs[ni]!;
    if (!Number.isFinite(cost)) continue;
    if (cost < bestCost - 1e-9 * Math.max(1, Math.abs(cost)) || (ni === local && cost <= bestCost + 1e-9 * Math.max(1, Math.abs(cost)))) {
      best = ni;
      bestCost = cost;
    }
  }
  return best < 0 ? new Map() : new Map([[input.backends[best]!.node, 1]]);
}

/**
 * Per node: the least cost (ms) of taking one more request there, in the residual graph of an
 * optimal flow — the node's next segment, or pushing a gateway already sent there onto another
 * node. Bellman–Ford towards the sink; an optimal flow has no negative cycle, so it settles.
 */
function marginalCostsMs(
  flowRps: readonly (readonly number[])[],
  linkCostMs: readonly (readonly number[])[],
  nodeSegments: readonly (readonly CostSegment[])[],
  nodeLoad: readonly number[],
): number[] {
  const N = nodeSegments.length;
  const pi = nodeSegments.map((segs, ni) => {
    let rest = nodeLoad[ni]!;
    for (const seg of segs) {
      if (rest < seg.capacityRps * (1 - 1e-9)) return seg.costMs;
      rest -= seg.capacityRps;
    }
    return Infinity;
  });
  const G = flowRps.length;
  const gatewayBest = new Array<number>(G);
  for (let round = 0; round <= G + N; round++) {
    for (let g = 0; g < G; g++) {
      let best = Infinity;
      const costs = linkCostMs[g]!;
      for (let ni = 0; ni < N; ni++) if (costs[ni] !== Infinity) best = Math.min(best, costs[ni]! + pi[ni]!);
      gatewayBest[g] = best;
    }
    let relaxed = false;
    for (let g = 0; g < G; g++) {
      const flows = flowRps[g]!;
      for (let ni = 0; ni < N; ni++) {
        if (!(flows[ni]! > 0)) continue;
        const via = gatewayBest[g]! - linkCostMs[g]![ni]!;
        if (via < pi[ni]! - 1e-9 * Math.max(1, Math.abs(via))) {
          pi[ni] = via;
          relaxed = true;
        }
      }
    }
    if (!relaxed) break;
  }
  return pi;
}

/**
 * The same input with RTT, reachability and per-node lookups cached: the solver, the failover
 * ordering and the explanations ask for the same pairs many times.
 */
function memoizeInput(input: PolicyInput): PolicyInput {
  // One flat row per gateway over backend indices, filled whole on first use (the underlying input
  // is fastest walking one gateway's row); a Map per gateway cost more than the lookups it saved.
  const gatewayIndex = new Map<string, number>();
  input.gateways.forEach((g, i) => gatewayIndex.set(g, i));
  const backendIndex = new Map<string, number>();
  input.backends.forEach((b, j) => backendIndex.set(b.node, j));
  const width = input.backends.length;
  const rtt = new Float64Array(input.gateways.length * width);
  const ok = new Uint8Array(input.gateways.length * width);
  const filled = new Uint8Array(input.gateways.length);
  let lastGateway: string | undefined;
  let lastOffset = -1;
  const offsetOf = (a: string): number => {
    if (a === lastGateway) return lastOffset;
    const i = gatewayIndex.get(a);
    lastGateway = a;
    lastOffset = i === undefined ? -1 : i * width;
    if (i !== undefined && filled[i] === 0) {
      filled[i] = 1;
      for (let j = 0; j < width; j++) {
        const b = input.backends[j]!.node;
        rtt[lastOffset + j] = input.rttMs(a, b);
        ok[lastOffset + j] = input.reachable(a, b) ? 1 : 0;
      }
    }
    return lastOffset;
  };
  const others = new Map<string, { rttMs: number; reachable: boolean }>();
  const other = (a: string, b: string) => {
    const key = `${a}\u0000${b}`;
    let v = others.get(key);
    if (!v) others.set(key, (v = { rttMs: input.rttMs(a, b), reachable: input.reachable(a, b) }));
    return v;
  };
  const rttMs = (a: string, b: string): number => {
    const o = offsetOf(a);
    const j = o < 0 ? undefined : backendIndex.get(b);
    return j !== undefined ? rtt[o + j]! : other(a, b).rttMs;
  };
  const reachable = (a: string, b: string): boolean => {
    const o = offsetOf(a);
    const j = o < 0 ? undefined : backendIndex.get(b);
    return j !== undefined ? ok[o + j] === 1 : other(a, b).reachable;
  };
  const nodeCache = <T>(fn: (n: string) => T) => {
    const m = new Map<string, T>();
    return (n: string): T => {
      if (!m.has(n)) m.set(n, fn(n));
      return m.get(n) as T;
    };
  };
  const serviceLoadRps = input.serviceLoadRps;
  const podQueueWait = input.podQueueWait;
  return {
    service: input.service,
    gateways: input.gateways,
    backends: input.backends,
    rttMs,
    reachable,
    demandRps: nodeCache((g) => input.demandRps(g)),
    serviceTimeMs: nodeCache((n) => input.serviceTimeMs(n)),
    ...(serviceLoadRps ? { serviceLoadRps: nodeCache((n) => serviceLoadRps.call(input, n)) } : {}),
    ...(podQueueWait ? { podQueueWait: nodeCache((n) => podQueueWait.call(input, n)) } : {}),
    ...(input.previous ? { previous: input.previous } : {}),
  };
}

/**
 * Measured RTTs never tie, so failover levels built from them reshuffle on every probe (edge-2 at
 * 19.8 ms, then 20.3 ms, swaps with edge-3) and every reshuffle is a push for nothing. Keep the
 * previous failover part when it covers the same nodes with the same weights and no node sits in a
 * later level than one that is clearly farther (by more than `toleranceShare` of the RTT plus
 * `toleranceMs`) or that the probes say is unreachable while it is not.
 */
function keepFailoverOrder(
  input: PolicyInput,
  gateway: string,
  next: GatewayAssignment,
  previous: GatewayAssignment | undefined,
  toleranceShare = 0.2,
  toleranceMs = 2,
): GatewayAssignment {
  if (!previous) return next;
  const failover = (a: GatewayAssignment) => a.localities.filter((l) => l.priority > 0);
  const primary = (a: GatewayAssignment) => a.localities.filter((l) => l.priority === 0);
  const nextFail = failover(next);
  const prevFail = failover(previous);
  if (nextFail.length !== prevFail.length || nextFail.length === 0) return next;
  const want = new Map(nextFail.map((l) => [l.node, l.weight] as const));
  if (!prevFail.every((l) => want.get(l.node) === l.weight)) return next;
  const g = gateway;
  const rtt = (l: LocalityAssignment) => input.rttMs(g, l.node);
  for (const x of prevFail) {
    for (const y of prevFail) {
      if (x.priority >= y.priority) continue;
      // x is tried before y: wrong if x is unreachable and y is not, or x is clearly farther.
      const rx = input.reachable(g, x.node);
      const ry = input.reachable(g, y.node);
      if (rx !== ry) {
        if (!rx) return next;
        continue;
      }
      if (rtt(x) > rtt(y) * (1 + toleranceShare) + toleranceMs) return next;
    }
  }
  // Levels must stay contiguous right after the (possibly different) primary level.
  const shift = 1 - Math.min(...prevFail.map((l) => l.priority));
  return { ...next, localities: [...primary(next), ...prevFail.map((l) => ({ ...l, priority: l.priority + shift }))] };
}

/** Drop shares below `minShare` and renormalise. */
function pruneShares(shares: ReadonlyMap<string, number>, minShare: number): Map<string, number> {
  const kept = [...shares].filter(([, s]) => s >= minShare);
  const sum = kept.reduce((a, [, s]) => a + s, 0);
  return new Map(sum > 0 ? kept.map(([n, s]) => [n, s / sum] as const) : []);
}
