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
