import type { GatewayAssignment, PolicyInput } from './types.js';

/**
 * Measured RTTs never tie, so failover levels built from them reshuffle on every probe (edge-2 at
 * 19.8 ms, then 20.3 ms, swaps with edge-3) and every reshuffle is a push for nothing. Keep the
 * previous failover part when it covers the same nodes with the same weights and no node sits in a
 * later level than one that is clearly farther (by more than `toleranceShare` of the RTT plus
 * `toleranceMs`) or that the probes say is unreachable while it is not.
 */
export function keepFailoverOrder(
  input: PolicyInput,
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
  const g = next.gateway;
  // Each node's RTT and reachability once, not once per pair.
  const rttMs = prevFail.map((l) => input.rttMs(g, l.node));
  const reachable = prevFail.map((l) => input.reachable(g, l.node));
  for (let i = 0; i < prevFail.length; i++) {
    for (let k = 0; k < prevFail.length; k++) {
      if (prevFail[i]!.priority >= prevFail[k]!.priority) continue;
      // i is tried before k: wrong if i is unreachable and k is not, or i is clearly farther.
      if (reachable[i] !== reachable[k]) {
        if (!reachable[i]) return next;
        continue;
      }
      if (rttMs[i]! > rttMs[k]! * (1 + toleranceShare) + toleranceMs) return next;
    }
  }
  // Levels must stay contiguous right after the (possibly different) primary level.
  const shift = 1 - Math.min(...prevFail.map((l) => l.priority));
  return { ...next, localities: [...primary(next), ...prevFail.map((l) => ({ ...l, priority: l.priority + shift }))] };
}
