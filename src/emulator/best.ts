import { sharesOf } from '../policy/oracle.js';
import { createProximaPolicy } from '../policy/proxima.js';
import type { NodeCapacity, PolicyInput } from '../policy/types.js';
import type { DemoLink, DemoScenario } from './scenario.js';

/**
 * The assignment `proxima` makes when it is told the truth of a demo scenario (mean RTTs, the pods'
 * mean service time, each gateway's offered rate) instead of measuring it: the best assignment the
 * measurement loop should settle on. Shares in percent per gateway and node (priority 0 only).
 */
export function bestAssignment(
  s: DemoScenario,
  opts: { links: readonly DemoLink[]; podsDown: ReadonlySet<string>; ratePerGateway: ReadonlyMap<string, number> },
): Record<string, Record<string, number>> {
  const gateways = s.nodes.map((n) => n.name).sort();
  const backends: NodeCapacity[] = s.pods
    .filter((p) => !opts.podsDown.has(p.node) && p.count > 0)
    .map((p) => ({ node: p.node, readyEndpoints: p.count, capacity: p.count * p.concurrency }))
    .sort((a, b) => (a.node < b.node ? -1 : 1));
  const serviceTime = new Map(s.pods.map((p) => [p.node, p.serviceTimeMs] as const));
  const rtt = (a: string, b: string): number =>
    a === b ? 0.2 : (opts.links.find((l) => (l.a === a && l.b === b) || (l.a === b && l.b === a))?.rttMs ?? 50);
  const input: PolicyInput = {
    service: s.service.name,
    gateways,
    backends,
    rttMs: rtt,
    reachable: () => true,
    demandRps: (g) => opts.ratePerGateway.get(g) ?? 0,
    serviceTimeMs: (n) => serviceTime.get(n) ?? 20,
  };
  const out: Record<string, Record<string, number>> = {};
  for (const [g, shares] of sharesOf(createProximaPolicy().assign(input))) {
    out[g] = Object.fromEntries([...shares].map(([n, x]) => [n, Math.round(x * 1000) / 10]));
  }
  return out;
}

/** Largest per-node difference in percentage points between two share rows. */
export function sharesDistance(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): number {
  const nodes = new Set([...Object.keys(a), ...Object.keys(b)]);
  return Math.max(0, ...[...nodes].map((n) => Math.abs((a[n] ?? 0) - (b[n] ?? 0))));
}
