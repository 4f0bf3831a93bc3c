import type { GatewayAssignment, LocalityAssignment, PolicyInput } from './types.js';

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
  const rtt = (l: LocalityAssignment) => input.rttMs(g, l.node);
  for (const x of prevFail) {
    for (const y of prevFail) {
      if (x.priority >= y.priority) continue;
      // x is tried before y: wrong if x is unreachable and y is not, or x is clearly farther.
      const rx = input.reachable(g, x.node);
      const ry = input.reachable(g, y.node);
      if (rx !== ry) {
        if (!rx) return next;
        continue;
      }
      if (rtt(x) > rtt(y) * (1 + toleranceShare) + toleranceMs) return next;
    }
  }
  // Levels must stay contiguous right after the (possibly different) primary level.
  const shift = 1 - Math.min(...prevFail.map((l) => l.priority));
  return { ...next, localities: [...primary(next), ...prevFail.map((l) => ({ ...l, priority: l.priority + shift }))] };
}
