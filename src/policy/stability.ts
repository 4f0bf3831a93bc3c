import { sameLocalities, sameLocalityRun } from './tiers.js';
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
  gateway: string,
  next: GatewayAssignment,
  previous: GatewayAssignment | undefined,
  toleranceShare = 0.2,
  toleranceMs = 2,
): GatewayAssignment {
  if (!previous) return next;
  // Nothing to keep when the order did not change (most rows of a recompute after a probe report).
  if (sameLocalities(next.localities, previous.localities)) return next;
  // Runs for every gateway of every service: the failover parts are counted and compared in place,
  // and arrays are made only for a previous order that covers the same nodes with the same weights.
  const count = failoverCount(next);
  if (count === 0 || failoverCount(previous) !== count) return next;
  if (!sameFailoverWeights(next, previous)) return next;
  const prevFail = previous.localities.filter((l) => l.priority > 0);
  // Each node's RTT and reachability once, not once per pair.
  const rttMs = prevFail.map((l) => input.rttMs(gateway, l.node));
  const reachable = prevFail.map((l) => input.reachable(gateway, l.node));
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
  const primary = next.localities.filter((l) => l.priority === 0);
  // The same primary level and no shift: the previous array itself (primary first, then failover, as sorted).
  const prevPrimary = previous.localities.length - prevFail.length;
  if (shift === 0 && primary.length === prevPrimary && sameLocalityRun(primary, 0, previous.localities, 0, prevPrimary))
    return { ...next, localities: previous.localities };
  return { ...next, localities: [...primary, ...prevFail.map((l) => ({ ...l, priority: l.priority + shift }))] };
}

function failoverCount(a: GatewayAssignment): number {
  let n = 0;
  for (const l of a.localities) if (l.priority > 0) n++;
  return n;
}

/**
 * Every previous failover locality has the weight `next` gives its node in failover (the last entry
 * of that node, as a map built from next's failover entries would hold). Failover parts are a few
 * nodes: a scan, not a map.
 */
function sameFailoverWeights(next: GatewayAssignment, previous: GatewayAssignment): boolean {
  const ls = next.localities;
  for (const p of previous.localities) {
    if (p.priority <= 0) continue;
    let weight: number | undefined;
    for (let j = ls.length - 1; j >= 0; j--) {
      const l = ls[j]!;
      if (l.priority > 0 && l.node === p.node) {
        weight = l.weight;
        break;
      }
    }
    if (weight !== p.weight) return false;
  }
  return true;
}
