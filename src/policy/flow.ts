/**
 * Exact min-cost transportation with convex piecewise-linear node costs (successive shortest paths
 * with queue-based Bellman–Ford over the residual graph, continuous amounts). Used by `proxima` (coarse cost
 * curve, capped at a target utilisation) and `oracle` (fine curve, true inputs).
 *
 *   source ─D_g─▶ gateway g ─RTT(g,n)·x─▶ node n ─segments(cost per rps)─▶ sink
 *
 * A gateway whose links are all forbidden keeps its demand unassigned.
 */

export interface CostSegment {
  /** Requests/s this segment takes (Infinity allowed for the last). */
  readonly capacityRps: number;
  /** Cost per request of the traffic in this segment (ms); non-decreasing along the list. */
  readonly costMs: number;
}

export interface TransportProblem {
  /** Demand per gateway (requests/s), index = gateway. */
  readonly demandRps: readonly number[];
  /** `linkCostMs[g][n]`: cost per request from gateway g to node n; Infinity = forbidden. */
  readonly linkCostMs: readonly (readonly number[])[];
  /** Convex cost curve per node, index = node. */
  readonly nodeSegments: readonly (readonly CostSegment[])[];
  /**
   * A guess: one node per gateway (-1 = none), e.g. the local one. When sending every gateway's whole
   * demand there is already optimal (no negative cycle in the residual graph), it is returned at the
   * cost of one check instead of a full solve: the common low-load, all-local case.
   */
  readonly guess?: readonly number[];
}

export interface TransportSolution {
  /** `flowRps[g][n]`. */
  readonly flowRps: number[][];
  /** Σ flow × (link cost + segment cost). */
  readonly totalCost: number;
  /** Demand that could not be placed (gateway without an allowed node). */
  readonly unassignedRps: number;
}

const EPS = 1e-9;

export function solveTransport(p: TransportProblem): TransportSolution {
  return (p.guess && checkGuess(p, p.guess)) || successiveShortestPaths(p);
}

function checkGuess(p: TransportProblem, guess: readonly number[]): TransportSolution | undefined {
  const G = p.demandRps.length;
  const N = p.nodeSegments.length;
  const flow = Array.from({ length: G }, () => new Array<number>(N).fill(0));
  const load = new Array<number>(N).fill(0);
  let totalCost = 0;
  for (let g = 0; g < G; g++) {
    const d = p.demandRps[g]!;
    if (!(d > 0)) continue;
    const n = guess[g] ?? -1;
    if (n < 0 || p.linkCostMs[g]![n] === Infinity) return undefined;
    flow[g]![n] = d;
    load[n] = load[n]! + d;
    totalCost += d * p.linkCostMs[g]![n]!;
  }
  // Marginal cost of the next unit (right) and of the last unit (left) at each node's load.
  const right = new Array<number>(N).fill(Infinity);
  const left = new Array<number>(N).fill(-Infinity);
  for (let n = 0; n < N; n++) {
    let rest = load[n]!;
    for (const seg of p.nodeSegments[n]!) {
      if (rest > seg.capacityRps) {
        totalCost += seg.capacityRps * seg.costMs;
        rest -= seg.capacityRps;
        left[n] = seg.costMs;
        continue;
      }
      totalCost += rest * seg.costMs;
      if (rest > 0) left[n] = seg.costMs;
      right[n] = rest < seg.capacityRps ? seg.costMs : Infinity;
      rest = 0;
      break;
    }
    if (rest > 0) return undefined;
  }
  // Bellman–Ford from a virtual source on the residual graph (sink = vertex G+N); a relaxation in
  // round V means a negative cycle, i.e. the guess can be improved.
  const V = G + N + 1;
  const sink = G + N;
  const dist = new Array<number>(V).fill(0);
  // Runs twice per service and recompute: the largest finite cost by loops, not by spreading a
  // flattened G × N copy into Math.max, and the relaxations written out rather than a closure per round.
  let largest = 1;
  for (const row of p.linkCostMs) for (const c of row) if (Number.isFinite(c) && c > largest) largest = c;
  for (const r of right) if (Number.isFinite(r) && r > largest) largest = r;
  const tol = 1e-7 * largest;
  for (let round = 0; round < V; round++) {
    let relaxed = false;
    for (let g = 0; g < G; g++) {
      const costs = p.linkCostMs[g]!;
      const flows = flow[g]!;
      for (let n = 0; n < N; n++) {
        const c = costs[n]!;
        if (c === Infinity) continue;
        const toNode = dist[g]! + c;
        if (toNode < dist[G + n]! - tol) {
          dist[G + n] = toNode;
          relaxed = true;
        }
        if (flows[n]! > 0) {
          const back = dist[G + n]! - c;
          if (back < dist[g]! - tol) {
            dist[g] = back;
            relaxed = true;
          }
        }
      }
    }
    for (let n = 0; n < N; n++) {
      if (right[n] !== Infinity) {
        const toSink = dist[G + n]! + right[n]!;
        if (toSink < dist[sink]! - tol) {
          dist[sink] = toSink;
          relaxed = true;
        }
      }
      if (left[n] !== -Infinity) {
        const fromSink = dist[sink]! - left[n]!;
        if (fromSink < dist[G + n]! - tol) {
          dist[G + n] = fromSink;
          relaxed = true;
        }
      }
    }
    if (!relaxed) return { flowRps: flow, totalCost, unassignedRps: 0 };
  }
  return undefined;
}

function successiveShortestPaths(p: TransportProblem): TransportSolution {
  const G = p.demandRps.length;
  const N = p.nodeSegments.length;
  const flow = Array.from({ length: G }, () => new Array<number>(N).fill(0));
  const supply = p.demandRps.map((d) => (d > 0 ? d : 0));
  // Per node: index of the first segment with room, and how much of it is used.
  const segIdx = new Array<number>(N).fill(0);
  const segUsed = new Array<number>(N).fill(0);
  const scale = Math.max(1, ...supply);
  let totalCost = 0;
  // Vertex ids: gateways 0..G-1, nodes G..G+N-1, sink G+N. Source is implicit (dist 0 at gateways with supply).
  const V = G + N + 1;
  const sink = G + N;
  const dist = new Array<number>(V);
  const pred = new Array<number>(V);
  for (let guard = 0; guard < 100_000; guard++) {
    dist.fill(Infinity);
    pred.fill(-1);
    let any = false;
    for (let g = 0; g < G; g++) {
      if (supply[g]! > EPS * scale) {
        dist[g] = 0;
        any = true;
      }
    }
    if (!any) break;
    // Queue-based Bellman–Ford (SPFA): reverse arcs have negative costs, so no plain Dijkstra.
    const queue: number[] = [];
    const inQueue = new Array<boolean>(V).fill(false);
    for (let g = 0; g < G; g++) {
      if (dist[g] === 0) {
        queue.push(g);
        inQueue[g] = true;
      }
    }
    const relax = (v: number, d: number, from: number) => {
      if (d < dist[v]! - EPS) {
        dist[v] = d;
        pred[v] = from;
        if (v !== sink && !inQueue[v]) {
          inQueue[v] = true;
          queue.push(v);
        }
      }
    };
    for (let head = 0, budget = V * V * 4; head < queue.length && budget > 0; head++, budget--) {
      const v = queue[head]!;
      inQueue[v] = false;
      const dv = dist[v]!;
      if (v < G) {
        const row = p.linkCostMs[v]!;
        for (let n = 0; n < N; n++) if (row[n]! !== Infinity) relax(G + n, dv + row[n]!, v);
      } else {
        const n = v - G;
        // Reverse arcs node → gateway where that gateway already sends flow.
        for (let g = 0; g < G; g++) if (flow[g]![n]! > EPS * scale) relax(g, dv - p.linkCostMs[g]![n]!, v);
        const seg = p.nodeSegments[n]![segIdx[n]!];
        if (seg) relax(sink, dv + seg.costMs, v);
      }
    }
    if (dist[sink] === Infinity) break;
    // Walk back to find the bottleneck.
    const last = pred[sink]! - G;
    const seg = p.nodeSegments[last]![segIdx[last]!]!;
    let amount = seg.capacityRps - segUsed[last]!;
    let v = G + last;
    const path: number[] = [sink, v];
    for (let steps = 0; steps <= V; steps++) {
      const u = pred[v]!;
      if (u === -1) break;
      if (v < G) amount = Math.min(amount, flow[v]![u - G]!); // reverse arc u(node) → v(gateway)
      path.push(u);
      v = u;
    }
    const start = v;
    amount = Math.min(amount, supply[start]!);
    if (!(amount > EPS * scale)) {
      // Numerical dust: drop the tiny remainder of this gateway's supply instead of looping.
      supply[start] = 0;
      continue;
    }
    supply[start] = supply[start]! - amount;
    for (let i = path.length - 1; i > 1; i--) {
      const u = path[i]!;
      const w = path[i - 1]!;
      if (u < G) flow[u]![w - G] = flow[u]![w - G]! + amount;
      else flow[w]![u - G] = Math.max(0, flow[w]![u - G]! - amount);
    }
    segUsed[last] = segUsed[last]! + amount;
    totalCost += amount * dist[sink]!;
    if (segUsed[last]! >= seg.capacityRps - EPS * scale) {
      segIdx[last] = segIdx[last]! + 1;
      segUsed[last] = 0;
    }
  }
  const unassignedRps = supply.reduce((a, b) => a + b, 0);
  return { flowRps: flow, totalCost, unassignedRps };
}

/**
 * Cut a convex total-cost curve F(λ) = λ·T(λ) into segments at the given breakpoints (requests/s,
 * increasing, starting above 0); each segment costs the average marginal cost over its span.
 */
export function segmentsFromCurve(breakpointsRps: readonly number[], totalCostMs: (rps: number) => number): CostSegment[] {
  const out: CostSegment[] = [];
  let prevX = 0;
  let prevF = 0;
  for (const x of breakpointsRps) {
    if (!(x > prevX)) continue;
    const f = totalCostMs(x);
    if (!Number.isFinite(f)) break;
    const cost = (f - prevF) / (x - prevX);
    const last = out[out.length - 1];
    out.push({ capacityRps: x - prevX, costMs: last ? Math.max(cost, last.costMs) : cost });
    prevX = x;
    prevF = f;
  }
  return out;
}

/**
 * Segments for demand past every node's limit: they spread the excess in proportion to capacity
 * (each step takes 10 % of the node's saturation rate) at a cost far above any real latency, so
 * overflow happens only when nothing else fits.
 */
export function overflowSegments(saturationRps: number, baseCostMs: number): CostSegment[] {
  const step = Number.isFinite(saturationRps) && saturationRps > 0 ? saturationRps / 10 : 1;
  const out: CostSegment[] = [];
  for (let k = 1; k <= 30; k++) out.push({ capacityRps: step, costMs: baseCostMs + OVERFLOW_COST_MS * k });
  out.push({ capacityRps: Infinity, costMs: baseCostMs + OVERFLOW_COST_MS * 1000 });
  return out;
}

export const OVERFLOW_COST_MS = 1e6;
