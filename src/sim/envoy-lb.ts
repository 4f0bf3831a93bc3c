import type { GatewayAssignment } from '../policy/types.js';
import type { Rng } from '../util/rng.js';

/**
 * How Envoy (and gRPC's xds resolver) route one request given an assignment: priority load from
 * health with overprovisioning factor 1.4, then a locality by effective weight
 * (weight × min(1, 1.4 × healthy/total)). Endpoint choice inside the locality is the caller's.
 */
export const OVERPROVISIONING = 1.4;

export interface LocalityHealth {
  readonly healthy: number;
  readonly total: number;
}

export function pickLocality(a: GatewayAssignment, health: (node: string) => LocalityHealth, rng: Rng): string | undefined {
  const byPriority = new Map<number, Array<{ node: string; weight: number; h: LocalityHealth }>>();
  for (const l of a.localities) {
    const list = byPriority.get(l.priority) ?? [];
    list.push({ node: l.node, weight: l.weight, h: health(l.node) });
    byPriority.set(l.priority, list);
  }
  const priorities = [...byPriority.keys()].sort((x, y) => x - y);
  // Priority health in percent, capped at 100; load spills down in order.
  const healthPct = priorities.map((p) => {
    const ls = byPriority.get(p)!;
    const healthy = ls.reduce((s, l) => s + l.h.healthy, 0);
    const total = ls.reduce((s, l) => s + l.h.total, 0);
    return total > 0 ? Math.min(100, (OVERPROVISIONING * 100 * healthy) / total) : 0;
  });
  const totalHealth = Math.min(
    100,
    healthPct.reduce((s, h) => s + h, 0),
  );
  if (totalHealth <= 0) return undefined;
  let left = 100;
  const loads = healthPct.map((h) => {
    const take = Math.min(left, (h * 100) / totalHealth);
    left -= take;
    return take;
  });
  let u = rng() * 100;
  let chosen = priorities.length - 1;
  for (let i = 0; i < loads.length; i++) {
    if (u < loads[i]!) {
      chosen = i;
      break;
    }
    u -= loads[i]!;
  }
  const ls = byPriority.get(priorities[chosen]!)!;
  const weights = ls.map((l) => (l.h.total > 0 ? l.weight * Math.min(1, (OVERPROVISIONING * l.h.healthy) / l.h.total) : 0));
  const sum = weights.reduce((s, w) => s + w, 0);
  if (sum <= 0) return undefined;
  let v = rng() * sum;
  for (let i = 0; i < ls.length; i++) {
    if (v < weights[i]!) return ls[i]!.node;
    v -= weights[i]!;
  }
  return ls[ls.length - 1]!.node;
}
