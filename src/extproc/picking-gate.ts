import type { PodSignal } from '../model/pod-signals.js';
import type { GatewayAssignment, Policy } from '../policy/types.js';

/**
 * When a gateway may skip the ext_proc round trip for a service: its EDS weights already send every
 * request to its own node, and the policy that chose them plans for load (it reads the demand, so it
 * keeps a gateway all-local only while the local pods have room for what the gateway sends).
 *
 * There the picker would choose the pod the weights choose. At 5 users in the demo it kept
 * 99.9-100 % of requests local, and each decision still cost the request one round trip to the
 * control plane (p50 1.2 ms on the demo's machine): ext_proc made every request slower and none
 * faster. A policy blind to load (`nearest`: always local when a local pod is ready) keeps ext_proc
 * everywhere, since the picker is then the only thing that spills a full local pod.
 */
export function pickingSkippable(policy: Pick<Policy, 'reads'>): boolean {
  return policy.reads?.includes('demand') === true;
}

/** Whether `row` sends every request (its lowest priority's weighted localities) to `gatewayNode`. */
export function weightsStayOnNode(row: GatewayAssignment | undefined, gatewayNode: string): boolean {
  if (!row || row.localities.length === 0) return false;
  let first = Infinity;
  for (const l of row.localities) if (l.weight > 0 && l.priority < first) first = l.priority;
  let local = false;
  for (const l of row.localities) {
    if (l.priority !== first || l.weight <= 0) continue;
    if (l.node !== gatewayNode) return false;
    local = true;
  }
  return local;
}

/**
 * The gateway nodes that skip the picker for one service: those whose row keeps them on their own
 * node (`weightsStayOnNode`) and whose pods look well (not in `unwell`), unless a gateway that still
 * asks the picker may be sent to that node's pods. The picker only counts the requests it routes: a
 * pod that also serves a skipping gateway's traffic looks to it emptier than it is, so it sends its
 * own requests into that pod's queue (demo at 6af3814, 15 users, seed 1: `edge-2` skipped while
 * `edge-1` picked onto `edge-2`'s pod; mean 55.8 ms against the weights' 37.7). A node is reachable by a picking row
 * through any of that row's localities: the picker weighs every priority, not only the first.
 * `ignoreRow` is the row of gateways on nodes the model does not know (the engine's even spread):
 * such gateways are unplanned, and counting their row would keep every node asking.
 */
export function nodesSkippingPicker(
  rows: ReadonlyMap<string, GatewayAssignment>,
  unwell: ReadonlySet<string> | undefined,
  ignoreRow: string,
): Set<string> {
  const skipping = new Set<string>();
  for (const [node, row] of rows) if (node !== ignoreRow && !unwell?.has(node) && weightsStayOnNode(row, node)) skipping.add(node);
  for (const [node, row] of rows) {
    if (node === ignoreRow || skipping.has(node)) continue;
    for (const l of row.localities) skipping.delete(l.node);
  }
  return skipping;
}

/** A node's pods are slow when their own mean time in the user container is this many times their peers'. */
export const SLOW_POD_FACTOR = 2;

/**
 * The nodes whose pods of one service the picker must be asked about even where the weights keep a
 * gateway local, from the pods' own signals (queue-proxy, via the node agents): pods slower than
 * SLOW_POD_FACTOR × the median of the other nodes' (a pod turned slow while the policy, which pools
 * service times at low load, keeps the row), or pods whose mean wait in the queue-proxy exceeds their
 * time in the user container (a queue the weights have not caught up with). Sorted.
 */
export function podsToAskAbout(signals: ReadonlyMap<string, PodSignal>): string[] {
  // Sorted once per service: each node's peers are this list without one copy of its own value.
  const sorted = [...signals.values()].flatMap((s) => (s.appLatencyMs !== undefined ? [s.appLatencyMs] : [])).sort((a, b) => a - b);
  const peerMedian = (own: number): number => {
    const skip = sorted.indexOf(own);
    const at = (p: number): number => sorted[p < skip ? p : p + 1]!;
    const k = sorted.length - 1;
    return k % 2 ? at((k - 1) / 2) : (at(k / 2 - 1) + at(k / 2)) / 2;
  };
  const out: string[] = [];
  for (const [node, s] of signals) {
    const app = s.appLatencyMs;
    if (app === undefined) continue;
    const queueing = s.requestLatencyMs !== undefined && s.requestLatencyMs - app > app;
    if (queueing || (sorted.length > 1 && app > SLOW_POD_FACTOR * peerMedian(app))) out.push(node);
  }
  return out.sort();
}
