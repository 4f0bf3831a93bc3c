import { sharesOf } from '../policy/oracle.js';
import { createProximaPolicy } from '../policy/proxima.js';
import { simScenarioFor } from '../sim/from-demo.js';
import { truthInput } from '../sim/scenario.js';
import type { DemoLink, DemoScenario } from './scenario.js';

/**
 * The assignment `proxima` makes when it is told the truth of a demo scenario (mean RTTs, the pods'
 * mean service time, each gateway's offered rate) instead of measuring it: the best assignment the
 * measurement loop should settle on. Shares in percent per gateway and node (priority 0 only).
 */
export function bestAssignment(
  s: DemoScenario,
  opts: { links: readonly DemoLink[]; podsDown: ReadonlySet<string>; users: number },
): Record<string, Record<string, number>> {
  const now: DemoScenario = { ...s, links: opts.links, pods: s.pods.filter((p) => !opts.podsDown.has(p.node)) };
  const input = truthInput(simScenarioFor(now, opts.users), { service: s.service.name, users: opts.users });
  const out: Record<string, Record<string, number>> = {};
  for (const [g, shares] of sharesOf(createProximaPolicy().assign(input))) {
    out[g] = Object.fromEntries([...shares].map(([n, x]) => [n, Math.round(x * 1000) / 10]));
  }
  return out;
}
