import type { GatewayAssignment, NodeCapacity, PolicyInput } from '../policy/types.js';
/** The simulated world: nodes, links, users, pods. Times in ms, rates in requests/s. */
export interface SimNode {
  readonly name: string;
  readonly pods: number;
  readonly slotsPerPod: number;
  /** Share of the users entering at this node's gateway (0 for the cloud). */
  readonly userShare: number;
  /** This node's pods' mean service time and lognormal sigma, when they differ from the scenario's. */
  readonly serviceTimeMs?: number;
  readonly serviceSigma?: number;
}

export interface SimLink {
  readonly a: string;
  readonly b: string;
  readonly rttMs: number;
  /** Per-request RTT is uniform in rttMs ± jitterMs. */
  readonly jitterMs: number;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly nodes: readonly SimNode[];
  readonly links: readonly SimLink[];
  readonly localRttMs: number;
  readonly serviceTimeMs: number;
  /** Lognormal sigma of the service time (cv² = e^{σ²} − 1). */
  readonly serviceSigma: number;
  readonly rpsPerUser: number;
  /**
   * How a request's RTT varies: 'uniform' (default) in rttMs ± jitterMs; 'normal' as the demo's
   * user-space netem does it, each direction max(0, rttMs/2 + jitterMs/2 · N(0, 1)).
   */
  readonly rttJitter?: 'uniform' | 'normal';
  /**
   * 'normal' only: writes per direction per request, each delayed independently and delivered in
   * order, so a direction takes the largest of this many one-way samples (default 1).
   */
  readonly segmentsPerDirection?: number;
}

export function serviceCv2(s: Scenario): number {
  return Math.exp(s.serviceSigma * s.serviceSigma) - 1;
}

export function link(s: Scenario, from: string, to: string): SimLink {
  if (from === to) return { a: from, b: to, rttMs: s.localRttMs, jitterMs: 0 };
  const l = s.links.find((x) => (x.a === from && x.b === to) || (x.a === to && x.b === from));
  if (!l) throw new Error(`scenario ${s.name}: no link ${from}–${to}`);
  return l;
}

/** Requests/s entering `gateway` at `users` users. */
export function offeredRps(s: Scenario, users: number, gateway: string): number {
  return users * s.rpsPerUser * (s.nodes.find((n) => n.name === gateway)?.userShare ?? 0);
}

/** Nodes with pods, as the policies see them (ready endpoints and concurrency slots), sorted by name. */
export function scenarioBackends(s: Scenario): NodeCapacity[] {
  return s.nodes
    .filter((n) => n.pods > 0)
    .map((n) => ({ node: n.name, readyEndpoints: n.pods, capacity: n.pods * n.slotsPerPod }))
    .sort((a, b) => (a.node < b.node ? -1 : 1));
}

/**
 * The truth of a scenario at `users` users as a policy input (what `oracle` is given): mean RTTs
 * (`rttMs` when links changed during a run), the pods, each gateway's offered rate and the pods'
 * mean service time.
 */
export function truthInput(
  s: Scenario,
  o: {
    readonly service: string;
    readonly users: number;
    readonly rttMs?: (from: string, to: string) => number;
    readonly backends?: readonly NodeCapacity[];
    readonly previous?: ReadonlyMap<string, GatewayAssignment>;
  },
): PolicyInput {
  const serviceTime = new Map(s.nodes.map((n) => [n.name, n.serviceTimeMs ?? s.serviceTimeMs] as const));
  return {
    service: o.service,
    gateways: s.nodes.map((n) => n.name).sort(),
    backends: o.backends ?? scenarioBackends(s),
    rttMs: o.rttMs ?? ((a, b) => link(s, a, b).rttMs),
    reachable: () => true,
    demandRps: (g) => offeredRps(s, o.users, g),
    serviceTimeMs: (n) => serviceTime.get(n) ?? s.serviceTimeMs,
    ...(o.previous ? { previous: o.previous } : {}),
  };
}

/**
 * The FaaSt experiment (CloudNet 2024) shape: edge nodes with one small pod each, a cloud node with
 * more pods, users entering at the edge gateways (unevenly, so capacity matters), edge↔edge 20 ± 4 ms
 * and edge↔cloud `cloudRttMs` ± 20 %.
 */
export function faastScenario(edgeNodes: number, cloudRttMs: number): Scenario {
  const userShares = [0.5, 0.3, 0.2, 0.1].slice(0, edgeNodes);
  const sum = userShares.reduce((a, b) => a + b, 0);
  const edges = userShares.map((u, i) => ({ name: `edge-${i + 1}`, pods: 1, slotsPerPod: 2, userShare: u / sum }));
  const nodes: SimNode[] = [...edges, { name: 'cloud', pods: 4, slotsPerPod: 2, userShare: 0 }];
  const links: SimLink[] = [];
  for (let i = 0; i < edges.length; i++) {
    for (let j = i + 1; j < edges.length; j++) links.push({ a: edges[i]!.name, b: edges[j]!.name, rttMs: 20, jitterMs: 4 });
    links.push({ a: edges[i]!.name, b: 'cloud', rttMs: cloudRttMs, jitterMs: cloudRttMs / 5 });
  }
  return {
    name: `${edgeNodes}edge-cloud${cloudRttMs}`,
    description: `${edgeNodes} edge nodes (1 pod × 2 slots) + cloud (4 pods × 2 slots), edge↔cloud ${cloudRttMs} ± ${cloudRttMs / 5} ms, edge↔edge 20 ± 4 ms, users split ${userShares.map((u) => Math.round((u / sum) * 100)).join('/')} %`,
    nodes,
    links,
    localRttMs: 0.2,
    serviceTimeMs: 10,
    serviceSigma: 0.4,
    rpsPerUser: 10,
  };
}
