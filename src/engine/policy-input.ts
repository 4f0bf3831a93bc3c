import type { LatencyMatrix } from '../model/latency-matrix.js';
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

export type ServiceTimeSource = 'queue-proxy app latency' | 'queue-proxy request latency' | 'lrs estimate' | 'default';

/** One node's service-time inputs for one service, with where each came from and how old it is. */
export interface NodeServiceInput {
  /** For `proxima`: the pure service time if measured, else an observed latency to be de-queued with `loadRps`. */
  readonly serviceTimeMs: number;
  readonly serviceTimeSource: ServiceTimeSource;
  /** Requests/s while `serviceTimeMs` was observed; undefined when it is already a pure service time. */
  readonly loadRps?: number;
  /** With a pure service time: the pods' mean queue wait (request − app latency) and the rate it was seen at. */
  readonly queueWait?: { readonly waitMs: number; readonly rps: number };
  /** For `faast`: P_j, the 10 s request latency (queueing included), when the pods measured it. */
  readonly faastLatencyMs?: number;
  readonly faastSource: 'queue-proxy 10 s request latency' | ServiceTimeSource;
  /** Age of the queue-proxy latency used, ms (undefined for other sources). */
  readonly ageMs?: number;
}

/**
 * Where service time and queueing per node come from: the pods' own queue-proxy signal when fresh
 * — the app latency (the user container alone: the pure service time, no model needed), with the
 * queue wait beside it (request − app latency over the same 10 s window) so that the policy can
 * calibrate its queueing model on it; else the request latency (queue wait included) with the rate
 * it was seen at, from which the policy takes the queueing back out — else the LRS estimate, else the
 * default. LRS keeps demand and the traffic matrix.
 *
 * The app latency comes first because taking queueing back out of the request latency needs the
 * model's idea of how variable service is: with the assumed cv² = 1 against the demo pods' 0.25 it
 * took too much out, and the service time the model used was 10–20 % under the pods' true mean at
 * high load (issue 19).
 */
export function nodeServiceInput(store: ModelStore, service: string, node: string, nowMs: number): NodeServiceInput {
  const pod = store.podSignal(service, node, nowMs);
  const ageMs = pod?.latencyAtMs !== undefined ? nowMs - pod.latencyAtMs : undefined;
  const lrs = store.serviceTimeMs(service, node);
  const fallback =
    lrs !== undefined
      ? { serviceTimeMs: lrs, serviceTimeSource: 'lrs estimate' as const, loadRps: store.serviceLoadRps(service, node) }
      : { serviceTimeMs: store.defaults.serviceTimeMs, serviceTimeSource: 'default' as const, loadRps: undefined };
  // FaaSt's query answers 0 for pods without a completed request in its window (and a node without
  // any is the average of nothing, 0 as well): where the node's queue-proxies report, that is P_j.
  const faast = pod
    ? { faastLatencyMs: pod.windowRequestLatencyMs ?? 0, faastSource: 'queue-proxy 10 s request latency' as const }
    : { faastSource: fallback.serviceTimeSource };
  const aged = ageMs !== undefined ? { ageMs } : {};
  const rate = pod?.windowRequestRps ?? pod?.requestRps;
  if (pod?.appLatencyMs !== undefined && pod.appLatencyMs > 0) {
    const queueWait =
      pod.requestLatencyMs !== undefined && pod.requestLatencyMs > 0 && rate !== undefined && rate > 0
        ? { queueWait: { waitMs: Math.max(0, pod.requestLatencyMs - pod.appLatencyMs), rps: rate } }
        : {};
    return { serviceTimeMs: pod.appLatencyMs, serviceTimeSource: 'queue-proxy app latency', ...queueWait, ...faast, ...aged };
  }
  if (pod?.requestLatencyMs !== undefined && pod.requestLatencyMs > 0)
    return {
      serviceTimeMs: pod.requestLatencyMs,
      serviceTimeSource: 'queue-proxy request latency',
      ...(rate !== undefined ? { loadRps: rate } : {}),
      ...faast,
      ...aged,
    };
  const { loadRps, ...rest } = fallback;
  return { ...rest, ...(loadRps !== undefined ? { loadRps } : {}), ...faast };
}

/** Matrix row of each gateway of `names` (-1: not in the matrix), per (matrix, list): every service of a recompute asks with the same pair. */
const rowIndexes = new WeakMap<LatencyMatrix, WeakMap<readonly string[], Int32Array>>();
function matrixRows(m: LatencyMatrix, names: readonly string[]): Int32Array {
  let byNames = rowIndexes.get(m);
  if (!byNames) rowIndexes.set(m, (byNames = new WeakMap()));
  let rows = byNames.get(names);
  if (!rows) byNames.set(names, (rows = Int32Array.from(names, (g) => m.index.get(g) ?? -1)));
  return rows;
}

/** Build the pure policy input for one service from the store at time `nowMs`. */
export function policyInputFor(
  store: ModelStore,
  service: string,
  gateways: readonly string[],
  nowMs: number,
  previous?: ReadonlyMap<string, GatewayAssignment>,
  rows?: ReadonlySet<string>,
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
  const inputs = new Map<string, NodeServiceInput>();
  const inputOf = (node: string): NodeServiceInput => {
    let i = inputs.get(node);
    if (!i) inputs.set(node, (i = nodeServiceInput(store, service, node, nowMs)));
    return i;
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
    latencyRows: (from, to, rttOut, reachableOut) => {
      const n = m.names.length;
      const width = to.length;
      const rows = matrixRows(m, from);
      for (let k = 0; k < width; k++) {
        const j = m.index.get(to[k]!.node) ?? -1;
        const base = j * n;
        for (let g = 0; g < rows.length; g++) {
          const i = rows[g]!;
          if (i >= 0 && j >= 0) {
            rttOut[g * width + k] = m.rttMsByTo[base + i]!;
            reachableOut[g * width + k] = m.reachableByTo[base + i]!;
          } else {
            rttOut[g * width + k] = store.rttMs(from[g]!, to[k]!.node, nowMs);
            reachableOut[g * width + k] = store.reachable(from[g]!, to[k]!.node, nowMs) ? 1 : 0;
          }
        }
      }
    },
    demandRps: (gateway) => store.demandRps(gateway, service) ?? defaults.demandRps,
    serviceTimeMs: (node) => inputOf(node).serviceTimeMs,
    serviceLoadRps: (node) => inputOf(node).loadRps,
    podQueueWait: (node) => inputOf(node).queueWait,
    faastLatencyMs: (node) => inputOf(node).faastLatencyMs,
    ...(previous ? { previous } : {}),
    ...(rows ? { rows } : {}),
  };
}
