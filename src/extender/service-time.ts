/**
 * The service time the extender's response model gives each node, from what the revision's pods
 * measure in the user container (queue-proxy). Pure.
 *
 * The pods of one revision run the same container with the same requests, so their per-node means
 * differ mostly by sampling and by the node's current load, and the node where demand just grew is
 * the busiest: the closed loop's seed 3 read 60.1 ms on edge-1's pod against 52.8 ms on edge-2's
 * (one 50 ms container). Taken as a property of the node, that 14 % outweighed the 20 ms RTT of
 * edge-1's spill, and one more pod beside the step node modelled a lower mean than one on it (10 vs
 * 7). So the nodes within `SAME_SPEED_SHARE` of the weighted median are given their pooled mean
 * (weighted by the requests each node's pods served); only a difference beyond it, such as a faster
 * machine, stays the node's own. Nodes without a measurement are left out (the caller's fallbacks apply);
 * `pooledMs` (the same-speed nodes' mean) is what a node without pods of the revision runs at.
 */

export interface ContainerTime {
  readonly node: string;
  /** Mean time in the user container, ms. */
  readonly ms: number;
  /** Requests/s the node's pods served (the pooling weight); <= 0 counts as one equal share. */
  readonly rps: number;
}

/** Relative distance from the weighted median below which a node's measurement counts as the same speed. */
export const SAME_SPEED_SHARE = 0.25;

export interface RevisionServiceTimes {
  readonly byNode: ReadonlyMap<string, number>;
  /** Undefined without any measurement. */
  readonly pooledMs: number | undefined;
}

export function revisionServiceTimes(times: readonly ContainerTime[], sameSpeedShare = SAME_SPEED_SHARE): RevisionServiceTimes {
  const valid = times.filter((t) => Number.isFinite(t.ms) && t.ms > 0);
  const byNode = new Map<string, number>();
  if (valid.length === 0) return { byNode, pooledMs: undefined };
  const weighted = valid.every((t) => t.rps > 0);
  const w = (t: ContainerTime) => (weighted ? t.rps : 1);
  // The reference is the weighted median, so one clearly different machine does not drag it.
  const sorted = [...valid].sort((a, b) => a.ms - b.ms);
  const total = sorted.reduce((s, t) => s + w(t), 0);
  let below = 0;
  let reference = sorted[sorted.length - 1]!.ms;
  for (const t of sorted) {
    below += w(t);
    if (below >= total / 2) {
      reference = t.ms;
      break;
    }
  }
  const same = valid.filter((t) => Math.abs(t.ms - reference) <= sameSpeedShare * reference);
  const pooled = same.reduce((s, t) => s + w(t) * t.ms, 0) / same.reduce((s, t) => s + w(t), 0);
  for (const t of valid) byNode.set(t.node, same.includes(t) ? pooled : t.ms);
  return { byNode, pooledMs: pooled };
}
