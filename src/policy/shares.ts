import type { GatewayAssignment, NodeCapacity, PolicyInput } from './types.js';
import type { NodeQueueModel } from './queueing.js';
import { meanSojournMs, saturationRps } from './queueing.js';
import { OVERFLOW_COST_MS, overflowSegments, segmentsFromCurve, solveTransport } from './flow.js';
import type { CostSegment } from './flow.js';

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
}

export interface SharesResult {
  /** Per gateway: node → share of its traffic (sums to 1 when it has an allowed node). */
  readonly shares: Map<string, Map<string, number>>;
  /** Arrival rate per node in the solution (requests/s). */
  readonly nodeRps: Map<string, number>;
  /** Some node had to take traffic past `maxUtilisation` (demand exceeds what fits). */
  readonly overloaded: boolean;
}

/** Solve the joint assignment of all gateways of one service with the given node models. */
export function solveShares(input: PolicyInput, o: SolveOptions): SharesResult {
  const nodes = input.backends;
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
  const linkCostMs = input.gateways.map((g) =>
    nodes.map((b) => (input.reachable(g, b.node) ? Math.max(0, input.rttMs(g, b.node)) : Infinity)),
  );
  // Guess: each gateway's local node, else its cheapest by RTT + first-segment cost.
  const guess = input.gateways.map((g, gi) => {
    let best = -1;
    let bestCost = Infinity;
    nodes.forEach((b, ni) => {
      const c = b.node === g ? -Infinity : linkCostMs[gi]![ni]! + (nodeSegments[ni]![0]?.costMs ?? Infinity);
      if (linkCostMs[gi]![ni]! !== Infinity && c < bestCost) {
        best = ni;
        bestCost = c;
      }
    });
    return best;
  });
  const sol = solveTransport({ demandRps: o.demandRps, linkCostMs, nodeSegments, guess });
  const shares = new Map<string, Map<string, number>>();
  const nodeRps = new Map<string, number>(nodes.map((b) => [b.node, 0] as const));
  input.gateways.forEach((g, gi) => {
    const row = sol.flowRps[gi]!;
    const total = row.reduce((a, b) => a + b, 0);
    const m = new Map<string, number>();
    if (total > 0) row.forEach((x, ni) => x > 0 && m.set(nodes[ni]!.node, x / total));
    shares.set(g, m);
    row.forEach((x, ni) => nodeRps.set(nodes[ni]!.node, nodeRps.get(nodes[ni]!.node)! + x));
  });
  const overloaded = nodeSegments.some((segs, ni) => {
    const limit = segs.filter((s) => s.costMs < OVERFLOW_COST_MS).reduce((a, s) => a + s.capacityRps, 0);
    return nodeRps.get(nodes[ni]!.node)! > limit * (1 + 1e-9);
  });
  return { shares, nodeRps, overloaded };
}

/** Drop shares below `minShare` and renormalise. */
export function pruneShares(shares: ReadonlyMap<string, number>, minShare: number): Map<string, number> {
  const kept = [...shares].filter(([, s]) => s >= minShare);
  const sum = kept.reduce((a, [, s]) => a + s, 0);
  return new Map(sum > 0 ? kept.map(([n, s]) => [n, s / sum] as const) : []);
}

export function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/**
 * The same input with RTT, reachability and per-node lookups cached: the solver, the failover
 * ordering and the explanations ask for the same pairs many times.
 */
export function memoizeInput(input: PolicyInput): PolicyInput {
  // Flat arrays over (gateway, backend) indices: a Map per gateway cost more than the lookups it saved.
  const gatewayIndex = new Map<string, number>();
  input.gateways.forEach((g, i) => gatewayIndex.set(g, i));
  const backendIndex = new Map<string, number>();
  input.backends.forEach((b, j) => backendIndex.set(b.node, j));
  const width = input.backends.length;
  const pairCache = <T>(fn: (a: string, b: string) => T) => {
    const values = new Array<T>(input.gateways.length * width);
    const known = new Uint8Array(input.gateways.length * width);
    const others = new Map<string, Map<string, T>>();
    return (a: string, b: string): T => {
      const i = gatewayIndex.get(a);
      const j = backendIndex.get(b);
      if (i !== undefined && j !== undefined) {
        const k = i * width + j;
        if (known[k] === 0) {
          values[k] = fn(a, b);
          known[k] = 1;
        }
        return values[k]!;
      }
      let inner = others.get(a);
      if (!inner) others.set(a, (inner = new Map()));
      let v = inner.get(b);
      if (v === undefined && !inner.has(b)) inner.set(b, (v = fn(a, b)));
      return v as T;
    };
  };
  const nodeCache = <T>(fn: (n: string) => T) => {
    const m = new Map<string, T>();
    return (n: string): T => {
      if (!m.has(n)) m.set(n, fn(n));
      return m.get(n) as T;
    };
  };
  const serviceLoadRps = input.serviceLoadRps;
  return {
    service: input.service,
    gateways: input.gateways,
    backends: input.backends,
    rttMs: pairCache((a, b) => input.rttMs(a, b)),
    reachable: pairCache((a, b) => input.reachable(a, b)),
    demandRps: nodeCache((g) => input.demandRps(g)),
    serviceTimeMs: nodeCache((n) => input.serviceTimeMs(n)),
    ...(serviceLoadRps ? { serviceLoadRps: nodeCache((n) => serviceLoadRps.call(input, n)) } : {}),
    ...(input.previous ? { previous: input.previous } : {}),
  };
}
