import { LRUCache } from 'lru-cache';
import type { NodeQueueModel } from './queueing.js';
import { meanWaitMs, saturationRps, serviceTimeFromObservedMs } from './queueing.js';
import { applyShareHysteresis, bringsTrafficHome, previousGoodEnough } from './hysteresis.js';
import { keepFailoverOrder } from './stability.js';
import { memoizeInput } from './latency-table.js';
import { primaryShares, pruneShares, safeDemand, slotsPerPod, solveShares } from './shares.js';
import type { MemoizedInput, SharesResult, Solution } from './shares.js';
import { SolveMemo } from './solve-memo.js';
import { assemble, byLatency } from './tiers.js';
import { RowMemo } from './row-memo.js';
import { DEFAULT_PROXIMA_OPTIONS, type ProximaOptions } from './proxima-options.js';
import { keptReason, nearestReason, SolveText } from './proxima-reasons.js';
import type { GatewayAssignment, LocalityAssignment, NodeModelView, Policy, PolicyInput, Reason } from './types.js';

export { DEFAULT_PROXIMA_OPTIONS, type ProximaOptions } from './proxima-options.js';

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
 * A node's window rate this far (fraction of the larger) from the load the current assignment puts
 * on it: the window holds a load change. At the demo's delay step edge-2 went from 50 to 76 requests/s;
 * 3 s later its 10 s window (59 requests/s, waits mostly from the busier part) calibrated cv² = 1
 * against the pods' 0.24, and the next solve moved 15 points of edge-2's traffic to the cloud.
 */
const TRANSIENT_LOAD_RATIO = 0.15;

/** The calibration the policy keeps per service while a load change passes through the pods' window. */
interface Cv2Memory {
  /** From the last window that matched the planned load. */
  held?: number;
  /**
   * What the last solve used and the window's own value it had then, for modelView (which has no
   * demand to judge a window by): a view of that same window shows what the solve used.
   */
  used?: { readonly cv2: number; readonly how: string; readonly window: number };
}

/**
 * How variable service is, from what the pods measured: the M/G/c wait scales with (1 + cv²)/2, so
 * the ratio of the measured queue wait to the wait predicted with cv² = 1 gives the cv² that makes the
 * model reproduce the measured queueing at the current operating point (pooled over the nodes whose
 * predicted wait is large enough to measure; the pods run one image). Capped at `maxCv2`, the
 * assumed default: a queue still filling after a load change (the window holds a transient) looks
 * like burstiness, and must not make the model more pessimistic than its assumption. Not `steady`
 * when a node's window rate is more than TRANSIENT_LOAD_RATIO away from the load the current
 * assignment puts on it (`plannedRps`): its window then mixes two operating points, the waits of the
 * busier one over the rate of both. Undefined without such nodes.
 */
function calibratedCv2(
  input: PolicyInput,
  maxCv2: number,
  nodes: ReadonlyArray<{ node: string; shape: Omit<NodeQueueModel, 'serviceTimeMs' | 'serviceCv2'>; serviceTimeMs: number }>,
  plannedRps?: ReadonlyMap<string, number>,
): { readonly cv2: number; readonly steady: boolean } | undefined {
  let measured = 0;
  let predicted = 0;
  let steady = true;
  for (const n of nodes) {
    const w = input.podQueueWait?.(n.node);
    if (!w || !(w.rps > 0) || !(w.waitMs >= 0) || !(n.serviceTimeMs > 0)) continue;
    const unit = meanWaitMs({ ...n.shape, serviceTimeMs: n.serviceTimeMs, serviceCv2: 1 }, w.rps);
    if (!Number.isFinite(unit) || unit < MIN_CALIBRATION_WAIT_MS) continue;
    measured += w.waitMs * w.rps;
    predicted += unit * w.rps;
    const planned = plannedRps?.get(n.node);
    if (planned !== undefined && Math.abs(w.rps - planned) > TRANSIENT_LOAD_RATIO * Math.max(planned, w.rps)) steady = false;
  }
  if (!(predicted > 0)) return undefined;
  return { cv2: Math.min(maxCv2, Math.max(0, (2 * measured) / predicted - 1)), steady };
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
function nodeEstimates(
  input: PolicyInput,
  o: ProximaOptions,
  memory?: Cv2Memory,
  plannedRps?: ReadonlyMap<string, number>,
): NodeEstimate[] {
  const raw = input.backends.map((b) => {
    const shape = { pods: b.readyEndpoints, slotsPerPod: slotsPerPod(b) };
    const observed = input.serviceTimeMs(b.node);
    const loadRps = input.serviceLoadRps?.(b.node);
    return { node: b.node, shape, observed: observed > 0 ? observed : 0, loadRps, pure: loadRps === undefined };
  });
  const calibration = calibratedCv2(
    input,
    o.serviceCv2,
    raw.filter((r) => r.pure).map((r) => ({ node: r.node, shape: r.shape, serviceTimeMs: r.observed })),
    plannedRps,
  );
  const held = calibration && !calibration.steady ? memory?.held : undefined;
  if (calibration?.steady && memory && plannedRps) memory.held = calibration.cv2;
  const cv2 = held ?? calibration?.cv2;
  const serviceCv2 = cv2 ?? o.serviceCv2;
  const dequeued = raw.map((r) => {
    if (r.pure) return { ...r, serviceTimeMs: r.observed, rate: input.podQueueWait?.(r.node)?.rps ?? 0 };
    const rate = r.loadRps !== undefined && r.loadRps > 0 ? r.loadRps : 0;
    return { ...r, serviceTimeMs: serviceTimeFromObservedMs({ ...r.shape, serviceCv2 }, r.observed, rate), rate };
  });
  const pooled = o.poolServiceTime
    ? pooledServiceTimeMs(dequeued.filter((d) => !d.pure).map((d) => ({ serviceTimeMs: d.serviceTimeMs, loadRps: d.rate })))
    : undefined;
  const cv2How =
    held !== undefined
      ? `cv² ${held.toFixed(2)} calibrated on the pods' queue wait before their load changed (the window now says ${calibration!.cv2.toFixed(2)})`
      : cv2 !== undefined
        ? `cv² ${cv2.toFixed(2)} calibrated on the pods' queue wait`
        : `cv² ${serviceCv2} assumed`;
  if (memory && plannedRps) memory.used = { cv2: serviceCv2, how: cv2How, window: calibration?.cv2 ?? o.serviceCv2 };
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
export function createProximaPolicy(options: Partial<ProximaOptions> = {}): Policy {
  const o: ProximaOptions = { ...DEFAULT_PROXIMA_OPTIONS, ...options };
  // The last solve per service: an RTT row of a gateway without demand leaves it valid (see SolveMemo).
  const solveMemo = new SolveMemo<Solution>();
  // Per service, bounded like the solve memo (services come and go).
  const cv2Memory = new LRUCache<string, Cv2Memory>({ max: 10_000 });
  return {
    name: 'proxima',
    // Idle gateways stay out of the solve (solveShares) and read only its potentials and their own row.
    idleRowIndependent: true,
    reads: ['rtt', 'demand', 'service-time'],
    modelView(input: PolicyInput): Record<string, NodeModelView> {
      const backends = input.backends.filter((b) => b.readyEndpoints > 0);
      const estimates = nodeEstimates({ ...input, backends }, o);
      // The variability the last solve used: a view has no demand to tell a transient window by.
      const last = cv2Memory.get(input.service)?.used;
      return Object.fromEntries(
        backends.map((b, i) => {
          const e = estimates[i]!;
          const used = last && last.window === e.model.serviceCv2 ? last : undefined;
          const how = used ? e.how.replace(/cv² .*$/, used.how) : e.how;
          return [b.node, { serviceTimeMs: e.model.serviceTimeMs, serviceCv2: used?.cv2 ?? e.model.serviceCv2, how }];
        }),
      );
    },
    assign(input: PolicyInput): Map<string, GatewayAssignment> {
      const out = new Map<string, GatewayAssignment>();
      const backends = input.backends.filter((b) => b.readyEndpoints > 0);
      if (backends.length === 0) {
        const none: GatewayAssignment = { service: input.service, localities: [], reason: 'no ready endpoints' };
        for (const g of input.gateways) out.set(g, none);
        return out;
      }
      const view = memoizeInput(input, backends);
      const demand = input.gateways.map((g) => safeDemand(input, g));
      const totalRps = demand.reduce((a, b) => a + b, 0);
      // Without a previous assignment this is a fresh start (a new control plane, a simulated run
      // through the shared instance): nothing calibrated before it applies.
      let memory = input.previous ? cv2Memory.get(input.service) : undefined;
      if (!memory) cv2Memory.set(input.service, (memory = {}));
      const solved = totalRps > 0 ? withDemand(view, demand, totalRps, o, solveMemo, memory) : undefined;
      const computed = solved?.computed ?? withoutDemand(view);
      // The previous assignment is kept (or not) per gateway: never where it keeps traffic away from
      // room at home — a ready local pod that the new optimum plans clearly below the target (a node
      // at its target is shared out between gateways, and that split is the bands' to judge).
      const backendNodes = new Set(backends.map((b) => b.node));
      const home = new Set<string>();
      if (solved && input.previous)
        for (const g of input.gateways)
          if (
            backendNodes.has(g) &&
            solved.utilisation(g) < o.targetUtilisation - o.hysteresisShare &&
            bringsTrafficHome(g, primaryShares(input.previous.get(g)), computed(g).shares, o.hysteresisShare)
          )
            home.add(g);
      const keepRest = solved && !solved.overloaded ? previousGoodEnough(view, demand, solved, home, o) : undefined;
      const fresh = (g: string): GatewayAssignment => {
        const next = computed(g);
        return keepFailoverOrder(
          view,
          g,
          applyShareHysteresis(view, g, next.shares, next.reason, o.hysteresisShare, home.has(g)),
          input.previous?.get(g),
        );
      };
      const one = (g: string): GatewayAssignment => {
        if (!keepRest || home.has(g)) return fresh(g);
        const kept = input.previous!.get(g)!.localities.filter((l) => l.priority === 0);
        return keepFailoverOrder(view, g, assemble(view, g, [...kept], keptReason(keepRest, computed(g).reason)), input.previous?.get(g));
      };
      // An idle gateway that is not a backend itself is a function of its latency row and its previous
      // assignment only, and most gateways share both (engine-interned localities): compute once per class.
      const memo = new RowMemo<Array<{ previous: readonly LocalityAssignment[] | undefined; value: GatewayAssignment }>>(view, true);
      input.gateways.forEach((g, gi) => {
        if (input.rows && !input.rows.has(g)) return;
        if (demand[gi]! > 0 || backendNodes.has(g)) return out.set(g, one(g));
        if (!memo.active) return out.set(g, one(g));
        const previous = input.previous?.get(g)?.localities;
        const row = memo.row(g);
        let entries = memo.get(row);
        if (!entries) memo.set(row, (entries = []));
        const hit = entries.find((e) => e.previous === previous);
        if (hit) return out.set(g, hit.value);
        const value = one(g);
        entries.push({ previous, value });
        return out.set(g, value);
      });
      return out;
    },
  };
}

export const proximaPolicy: Policy = createProximaPolicy();

interface Computed {
  readonly shares: ReadonlyMap<string, number>;
  /** Formatted when read (see reason.ts). */
  readonly reason: Reason;
}

/** Per gateway, computed on first ask (a row-only recompute asks for one). */
type ComputedOf = (gateway: string) => Computed;

function lazily(compute: ComputedOf): ComputedOf {
  const done = new Map<string, Computed>();
  return (g) => {
    let c = done.get(g);
    if (!c) done.set(g, (c = compute(g)));
    return c;
  };
}

/** No demand known: everything to the local pod, else to the nearest reachable node. */
function withoutDemand(input: PolicyInput): ComputedOf {
  return lazily((g) => {
    const best = byLatency(input, g).find((b) => input.reachable(g, b.node));
    return best
      ? { shares: new Map([[best.node, 1]]), reason: nearestReason(best.node === g, best.node, input.rttMs(g, best.node)) }
      : { shares: new Map(), reason: 'no reachable node with ready endpoints' };
  });
}

interface Solved {
  readonly computed: ComputedOf;
  readonly models: NodeQueueModel[];
  readonly overloaded: boolean;
  /** The utilisation the new optimum plans for a backend node (0..1, 0 when it is no backend). */
  readonly utilisation: (node: string) => number;
}

/** Requests/s the previous assignment puts on each backend (like `input.backends`) at today's demand; undefined without one. */
function previousLoadsRps(input: MemoizedInput, demand: readonly number[]): number[] | undefined {
  const prev = input.previous;
  if (!prev) return undefined;
  const loads = new Array<number>(input.backends.length).fill(0);
  let any = false;
  input.gateways.forEach((g, gi) => {
    const a = demand[gi]! > 0 ? prev.get(g) : undefined;
    if (!a) return;
    // primaryShares(a) × demand, without building the map (this runs for every gateway with demand).
    let sum = 0;
    for (const l of a.localities) if (l.priority === 0) sum += l.weight;
    if (!(sum > 0)) return;
    for (const l of a.localities) {
      const j = l.priority === 0 ? input.table.column(l.node) : undefined;
      if (j === undefined) continue;
      loads[j] = loads[j]! + (l.weight / sum) * demand[gi]!;
      any = true;
    }
  });
  return any ? loads : undefined;
}

function withDemand(
  input: MemoizedInput,
  demand: number[],
  totalRps: number,
  o: ProximaOptions,
  memo: SolveMemo<Solution>,
  memory?: Cv2Memory,
): Solved {
  // The load the current assignment puts on each node: a pod window far from it holds a load change.
  const planned = previousLoadsRps(input, demand);
  const plannedRps = new Map<string, number>(planned ? input.backends.map((b, i) => [b.node, planned[i]!] as const) : []);
  const models: NodeQueueModel[] = nodeEstimates(input, o, memory, plannedRps).map((e) => e.model);
  // A gateway without demand still gets a route: where the marginal cost is least (see solveShares).
  const options = { models, maxUtilisation: o.targetUtilisation, segments: o.segments, spacingPower: 1.5, demandRps: demand };
  // The segment around each node's load is cut finer, so the optimum lies inside it, not at its ends:
  // around the loads of the previous assignment (the optimum moves little between recomputes: one
  // solve), and again around the new loads when some node left its refined stretch (a real change).
  const refine = (aroundRps: readonly number[]) =>
    solveShares(input, { ...options, refineAroundRps: aroundRps, refineSegments: o.refineSegments }, memo);
  const loadsOf = (r: SharesResult) => input.backends.map((b) => r.nodeRps.get(b.node) ?? 0);
  const previous = o.refineSegments > 1 ? planned : undefined;
  let solved: SharesResult;
  if (o.refineSegments <= 1) solved = solveShares(input, options, memo);
  else {
    solved = refine(previous ?? loadsOf(solveShares(input, options, memo)));
    if (previous && solved.refinedAtOptimum === false) solved = refine(loadsOf(solved));
  }
  const backendIndex = new Map(input.backends.map((b, i) => [b.node, i] as const));
  const serviceText = ` rps of ${totalRps.toFixed(1)}${solved.overloaded ? '; OVERLOADED: demand exceeds every node at target utilisation, spread by capacity' : ''}`;
  const text = new SolveText(
    models,
    input.backends.map((b) => b.node),
    backendIndex,
    solved.nodeRps,
    serviceText,
    input.gateways.length,
  );
  // Per gateway index, computed on first ask (an array: a map of 1,000 gateways per service grew by rehashing).
  const done: Array<Computed | undefined> = new Array<Computed | undefined>(input.gateways.length);
  const computed = (g: string): Computed => {
    const gi = input.table.indexOf(g)!;
    let c = done[gi];
    if (!c) {
      const shares = pruneShares(solved.sharesOf(g), o.minShare);
      done[gi] = c = { shares, reason: text.row(input, g, demand[gi]!, shares) };
    }
    return c;
  };
  const utilisation = (n: string): number => {
    const i = backendIndex.get(n);
    return i === undefined ? 0 : (solved.nodeRps.get(n) ?? 0) / saturationRps(models[i]!);
  };
  return { computed, models, overloaded: solved.overloaded, utilisation };
}
