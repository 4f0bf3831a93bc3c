import type { GatewayAssignment, NodeCapacity, PolicyInput } from './types.js';
import type { NodeQueueModel } from './queueing.js';
import { meanSojournMs, saturationRps } from './queueing.js';
import { OVERFLOW_COST_MS, overflowSegments, segmentsFromCurve, solveTransport } from './flow.js';
import type { CostSegment } from './flow.js';
import { memoizeInput, type MemoizedInput } from './latency-table.js';

export type { MemoizedInput } from './latency-table.js';
import { RowMemo } from './row-memo.js';
import type { SolveKey, SolveMemo } from './solve-memo.js';

/** Helpers shared by the share-based policies (proxima, oracle): shares in, shares out. */

/** Concurrency assumed per endpoint when a source reports 0 (Knative: unlimited). */
export const UNLIMITED_SLOTS = 1000;

/** Share of a gateway's priority-0 traffic per node in a (previous) assignment. */
export function primaryShares(a: GatewayAssignment | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!a) return out;
  const p0 = a.localities.filter((l) => l.priority === 0);
  const sum = p0.reduce((s, l) => s + l.weight, 0);
  if (sum > 0) for (const l of p0) out.set(l.node, l.weight / sum);
  return out;
}

export function slotsPerPod(b: NodeCapacity): number {
  if (b.readyEndpoints <= 0) return 0;
  return b.capacity > 0 ? b.capacity / b.readyEndpoints : UNLIMITED_SLOTS;
}

export function safeDemand(input: PolicyInput, gateway: string): number {
  const d = input.demandRps(gateway);
  return Number.isFinite(d) && d > 0 ? d : 0;
}

export interface SolveOptions {
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
  /**
   * Node loads (requests/s, indexed like the models) of a solve with the same options: the segment
   * around each load is cut into `refineSegments` more, so the optimum is found inside it rather than
   * at one of its ends. A linearised curve puts the optimum on a breakpoint: near a busy node's
   * target the breakpoints lie ~5 % of its capacity apart, and a gateway sharing that node can only
   * jump between splits 7–9 points apart, whichever way noise in the inputs tips it.
   */
  readonly refineAroundRps?: readonly number[];
  /** Extra breakpoints per refined segment (default 8). */
  readonly refineSegments?: number;
}

/** Breakpoints below `cap`: `segments` of them, denser towards the cap by `spacingPower`. */
function coarseBreaks(cap: number, o: SolveOptions): number[] {
  const breaks: number[] = [];
  for (let k = 1; k <= o.segments; k++) breaks.push(cap * (1 - Math.pow(1 - k / o.segments, o.spacingPower)));
  return breaks;
}

/** The stretch between the breakpoints around `loadRps` (both neighbouring segments when it sits on a breakpoint). */
function refineInterval(breaks: readonly number[], loadRps: number): readonly [number, number] {
  const points = [0, ...breaks];
  const tol = 1e-6 * Math.max(1, loadRps);
  let lo = 0;
  let hi = points.length - 1;
  for (let i = 0; i < points.length; i++) {
    if (points[i]! <= loadRps + tol) lo = i;
    if (points[i]! >= loadRps - tol) {
      hi = i;
      break;
    }
  }
  return [points[Math.max(0, lo - (lo === hi ? 1 : 0))]!, points[Math.min(points.length - 1, hi + (lo === hi ? 1 : 0))]!];
}

/** `breaks` with `interval` cut into `pieces`. */
function refinedBreaks(breaks: readonly number[], [from, to]: readonly [number, number], pieces: number): number[] {
  const extra: number[] = [];
  for (let k = 1; k < pieces; k++) extra.push(from + ((to - from) * k) / pieces);
  return [...breaks, ...extra].sort((a, b) => a - b);
}

export interface SharesResult {
  /**
   * A gateway's shares: node → share of its traffic (sums to 1 when it has an allowed node). A
   * gateway without demand is routed on first ask (O(backends)), so asking for a few rows is cheap.
   */
  sharesOf(gateway: string): ReadonlyMap<string, number>;
  /** Arrival rate per node in the solution (requests/s). */
  readonly nodeRps: Map<string, number>;
  /** Some node had to take traffic past `maxUtilisation` (demand exceeds what fits). */
  readonly overloaded: boolean;
  /**
   * With `refineAroundRps`: every node's load ended inside its refined stretch, so the optimum was
   * found at the fine resolution (else some node moved to a coarse breakpoint elsewhere: solve again
   * around these loads).
   */
  readonly refinedAtOptimum?: boolean;
}

/** What the solve of the gateways with demand yields; memoised per service on its exact inputs (SolveMemo). */
export interface Solution {
  readonly commodityOf: ReadonlyMap<string, number>;
  readonly commodityShares: ReadonlyArray<ReadonlyMap<string, number>>;
  /** Per backend: the marginal cost (ms) of one more request there, for the gateways without demand. */
  readonly potentialMs: readonly number[];
  readonly nodeRps: ReadonlyMap<string, number>;
  readonly overloaded: boolean;
  /** See `SharesResult.refinedAtOptimum`. */
  readonly refinedAtOptimum: boolean | undefined;
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
 * plus O(backends) per idle gateway. With `memo`, a service whose solve inputs did not change
 * reuses its last solution.
 */
export function solveShares(input: PolicyInput, o: SolveOptions, memo?: SolveMemo<Solution>): SharesResult {
  const view =
    'table' in input && (input as MemoizedInput).table.backends === input.backends ? (input as MemoizedInput) : memoizeInput(input);
  const curves = view.backends.map((_, i) => nodeCurve(o, i));
  let solution: Solution | undefined;
  if (memo) {
    const key = solveKey(view, o, curves);
    solution = memo.get(view.service, key);
    if (!solution) memo.set(view.service, key, (solution = solveCommodities(view, o, curves)));
  } else solution = solveCommodities(view, o, curves);
  const s = solution;
  // An idle gateway's whole share goes to one node: one map per node, shared by those gateways.
  const single: Array<ReadonlyMap<string, number> | undefined> = [];
  return {
    sharesOf: (g) => {
      const c = s.commodityOf.get(g);
      if (c !== undefined) return s.commodityShares[c]!;
      const best = idleNode(view, g, view.table.column(g), s.potentialMs);
      return best < 0 ? NO_SHARES : (single[best] ??= new Map([[view.backends[best]!.node, 1]]));
    },
    nodeRps: new Map(s.nodeRps),
    overloaded: s.overloaded,
    refinedAtOptimum: s.refinedAtOptimum,
  };
}

/**
 * Breakpoints (requests/s) of one node's cost curve below its cap (`maxUtilisation` × saturation),
 * denser towards the cap by `spacingPower`, with the stretch around `refineAroundRps` cut finer.
 * The solve reads the curve only through these, the node's model and `maxUtilisation` (see solveKey).
 */
function nodeCurve(o: SolveOptions, i: number): NodeCurve {
  const cap = o.maxUtilisation * saturationRps(o.models[i]!);
  const coarse = coarseBreaks(cap, o);
  const around = o.refineAroundRps?.[i];
  if (around === undefined || !Number.isFinite(cap) || !(around > 0)) return { breaks: coarse, refined: undefined };
  const refined = refineInterval(coarse, around);
  return { breaks: refinedBreaks(coarse, refined, o.refineSegments ?? 8), refined };
}

interface NodeCurve {
  readonly breaks: readonly number[];
  /** The stretch cut finer, if any. */
  readonly refined: readonly [number, number] | undefined;
}

/** One node's convex cost curve cut at `breaks`, then the overflow segments past its cap. */
function nodeCostSegments(m: NodeQueueModel, maxUtilisation: number, breaks: readonly number[]): CostSegment[] {
  const sat = saturationRps(m);
  const cap = maxUtilisation * sat;
  const segs = Number.isFinite(cap)
    ? segmentsFromCurve(breaks, (rps) => rps * meanSojournMs(m, rps))
    : [{ capacityRps: Infinity, costMs: m.serviceTimeMs }];
  const lastCost = segs[segs.length - 1]?.costMs ?? m.serviceTimeMs;
  return Number.isFinite(cap) ? [...segs, ...overflowSegments(sat, lastCost)] : segs;
}

/**
 * Every input `solveCommodities` reads: `maxUtilisation`, whether the solve refines at all, each
 * node's model, curve breakpoints and refined stretch, and each gateway with demand, its demand and row.
 */
function solveKey(input: MemoizedInput, o: SolveOptions, curves: readonly NodeCurve[]): SolveKey {
  const N = input.backends.length;
  const names = input.backends.map((b) => b.node);
  let withDemand = 0;
  for (let gi = 0; gi < input.gateways.length; gi++) if (o.demandRps[gi]! > 0) withDemand++;
  let size = 3 + withDemand * (1 + 2 * N);
  for (let i = 0; i < N; i++) size += 7 + curves[i]!.breaks.length;
  const values = new Float64Array(size);
  let k = 0;
  values[k++] = o.maxUtilisation;
  values[k++] = o.refineAroundRps ? 1 : 0;
  values[k++] = N;
  for (let i = 0; i < N; i++) {
    const m = o.models[i]!;
    const curve = curves[i]!;
    values[k++] = m.pods;
    values[k++] = m.slotsPerPod;
    values[k++] = m.serviceTimeMs;
    values[k++] = m.serviceCv2;
    values[k++] = curve.refined?.[0] ?? NaN;
    values[k++] = curve.refined?.[1] ?? NaN;
    values[k++] = curve.breaks.length;
    for (const x of curve.breaks) values[k++] = x;
  }
  const t = input.table;
  for (let gi = 0; gi < input.gateways.length; gi++) {
    const d = o.demandRps[gi]!;
    if (!(d > 0)) continue;
    names.push(input.gateways[gi]!);
    values[k++] = d;
    const at = t.offsetAt(gi);
    for (let j = 0; j < N; j++) {
      values[k++] = t.rttMs[at + j]!;
      values[k++] = t.reachable[at + j]!;
    }
  }
  return { names, values };
}

function solveCommodities(input: MemoizedInput, o: SolveOptions, curves: readonly NodeCurve[]): Solution {
  const nodes = input.backends;
  const N = nodes.length;
  const nodeSegments: CostSegment[][] = nodes.map((_, i) => nodeCostSegments(o.models[i]!, o.maxUtilisation, curves[i]!.breaks));

  // Commodities: gateways with demand, grouped by identical latency row.
  const memo = new RowMemo<number>(input);
  const commodityOf = new Map<string, number>();
  const linkCostMs: number[][] = [];
  const demandRps: number[] = [];
  const guess: number[] = [];
  input.gateways.forEach((g, gi) => {
    const d = o.demandRps[gi]!;
    if (!(d > 0)) return;
    const row = memo.row(g);
    const known = memo.get(row);
    if (known !== undefined) {
      commodityOf.set(g, known);
      demandRps[known] = demandRps[known]! + d;
      return;
    }
    const c = demandRps.length;
    memo.set(row, c);
    commodityOf.set(g, c);
    demandRps.push(d);
    const costs = new Array<number>(N);
    for (let ni = 0; ni < N; ni++) costs[ni] = row.reachable[ni] === 1 ? Math.max(0, row.rttMs[ni]!) : Infinity;
    linkCostMs.push(costs);
    // Guess: the gateway's local node, else its cheapest by RTT + first-segment cost.
    const local = input.table.column(g);
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
  const nodeRps = new Map<string, number>(nodes.map((b, ni) => [b.node, nodeLoad[ni]!] as const));
  const overloaded = nodeSegments.some((segs, ni) => {
    const limit = segs.filter((s) => s.costMs < OVERFLOW_COST_MS).reduce((a, s) => a + s.capacityRps, 0);
    return nodeLoad[ni]! > limit * (1 + 1e-9);
  });
  // A load on an end of its refined stretch is where the stretch stopped, not necessarily where the
  // optimum is (it may lie in the next segment), unless the curve itself ends there (0 or the cap).
  const refinedAtOptimum = o.refineAroundRps
    ? nodeLoad.every((load, ni) => {
        const { refined: iv, breaks } = curves[ni]!;
        const tol = 1e-6 * Math.max(1, load);
        if (!iv) return load <= 1e-9;
        const cap = breaks[breaks.length - 1] ?? iv[1];
        return (
          (load > iv[0] + tol || (iv[0] <= tol && load >= -tol)) && (load < iv[1] - tol || (iv[1] >= cap - tol && load <= iv[1] + tol))
        );
      })
    : undefined;
  return { commodityOf, commodityShares, potentialMs, nodeRps, overloaded, refinedAtOptimum };
}

const NO_SHARES: ReadonlyMap<string, number> = new Map();

/** Where an idle gateway's whole share goes: the backend index with the least RTT + marginal cost (local on ties); -1 when none is reachable. */
function idleNode(input: MemoizedInput, gateway: string, local: number | undefined, potentialMs: readonly number[]): number {
  // Runs for every idle gateway of every service: the row read in place, no closure per call.
  const at = input.table.offsetOf(gateway);
  const table = input.table;
  let best = -1;
  let bestCost = Infinity;
  for (let ni = 0; ni < potentialMs.length; ni++) {
    const ok = at >= 0 ? table.reachable[at + ni] === 1 : input.reachable(gateway, input.backends[ni]!.node);
    if (!ok) continue;
    const rtt = at >= 0 ? table.rttMs[at + ni]! : input.rttMs(gateway, input.backends[ni]!.node);
    const cost = Math.max(0, rtt) + potentialMs[ni]!;
    if (!Number.isFinite(cost)) continue;
    if (cost < bestCost - 1e-9 * Math.max(1, Math.abs(cost)) || (ni === local && cost <= bestCost + 1e-9 * Math.max(1, Math.abs(cost)))) {
      best = ni;
      bestCost = cost;
    }
  }
  return best;
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
 * Shares below `minShare` dropped, the rest renormalised; `shares` itself when nothing is dropped
 * and they already sum to 1 (every idle gateway's single full share). Share maps are shared between
 * gateways and with the memoised solve: never changed once made.
 */
export function pruneShares(shares: ReadonlyMap<string, number>, minShare: number): ReadonlyMap<string, number> {
  let sum = 0;
  let dropped = false;
  for (const s of shares.values()) {
    if (s >= minShare) sum += s;
    else dropped = true;
  }
  if (!dropped && sum === 1) return shares;
  const out = new Map<string, number>();
  if (sum > 0) for (const [n, s] of shares) if (s >= minShare) out.set(n, s / sum);
  return out;
}

export function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}
