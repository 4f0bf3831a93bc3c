import type { ModelStore } from '../model/store.js';
import type { GatewayAssignment, NodeCapacity, PolicyInput } from '../policy/types.js';

/** Ready (routable) capacity of a service per node, sorted by node name. */
export function backendsOf(store: ModelStore, service: string): NodeCapacity[] {
  const s = store.service(service);
  if (!s) return [];
  const byNode = new Map<string, { readyEndpoints: number; capacity: number }>();
  for (const e of s.endpoints) {
    if (!e.ready || e.pending) continue;
    const node = store.node(e.node);
    if (node && !node.ready) continue;
    const c = byNode.get(e.node) ?? { readyEndpoints: 0, capacity: 0 };
    c.readyEndpoints++;
    c.capacity += e.capacity;
    byNode.set(e.node, c);
  }
  return [...byNode].map(([node, c]) => ({ node, ...c })).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** Build the pure policy input for one service from the store at time `nowMs`. */
export function policyInputFor(
  store: ModelStore,
  service: string,
  gateways: readonly string[],
  nowMs: number,
  previous?: ReadonlyMap<string, GatewayAssignment>,
): PolicyInput {
  const defaults = store.defaults;
  const m = store.latencyMatrix(nowMs);
  const n = m.names.length;
  // Policies ask for one gateway's row at a time: remember its index instead of hashing it per pair.
  let lastFrom: string | undefined;
  let lastRow: number | undefined;
  const rowOf = (from: string): number | undefined => {
    if (from !== lastFrom) {
      lastFrom = from;
      const i = m.index.get(from);
      lastRow = i === undefined ? undefined : i * n;
    }
    return lastRow;
  };
  return {
    service,
    gateways,
    backends: backendsOf(store, service),
    rttMs: (from, to) => {
      const row = rowOf(from);
      const j = row === undefined ? undefined : m.index.get(to);
      return j !== undefined ? m.rttMs[row! + j]! : store.rttMs(from, to, nowMs);
    },
    reachable: (from, to) => {
      const row = rowOf(from);
      const j = row === undefined ? undefined : m.index.get(to);
      return j !== undefined ? m.reachable[row! + j] === 1 : store.reachable(from, to, nowMs);
    },
    demandRps: (gateway) => store.demandRps(gateway, service) ?? defaults.demandRps,
    serviceTimeMs: (node) => store.serviceTimeMs(service, node) ?? defaults.serviceTimeMs,
    serviceLoadRps: (node) => store.serviceLoadRps(service, node),
    ...(previous ? { previous } : {}),
  };
}
