import { sharesOf } from '../policy/oracle.js';
import { createProximaPolicy } from '../policy/proxima.js';
import { simScenarioFor } from '../sim/from-demo.js';
import { serviceCv2, truthInput } from '../sim/scenario.js';
import type { DemoLink, DemoScenario } from './scenario.js';

/**
 * The assignment `proxima` makes when it is told the truth of a demo scenario (mean RTTs, the pods'
 * mean service time and its variability, each gateway's offered rate as drawn) instead of measuring it: the best assignment the
 * measurement loop should settle on. Shares in percent per gateway and node (priority 0 only).
 */
export function bestAssignment(
  s: DemoScenario,
  opts: {
    links: readonly DemoLink[];
    podsDown: ReadonlySet<string>;
    users: number;
    /** What the pods really took (mean and cv of user-container time), when measured; else the configured values. */
    service?: { readonly meanMs: number; readonly cv: number };
    /**
     * Requests/s each entry gateway really got (the Poisson draw of the run), when counted; else the
     * configured users × rate. Edge-2's best split moves about 2 points per request/s of edge-1's
     * demand (it takes all of edge-1's traffic), and over a minute the draw is ±1 request/s off.
     */
    offeredRps?: Readonly<Record<string, number>>;
  },
): Record<string, Record<string, number>> {
  const service = opts.service;
  const now: DemoScenario = {
    ...s,
    links: opts.links,
    pods: s.pods
      .filter((p) => !opts.podsDown.has(p.node))
      .map((p) => (service ? { ...p, serviceTimeMs: service.meanMs, serviceTimeCv: service.cv } : p)),
  };
  const sim = simScenarioFor(now, opts.users);
  const truth = truthInput(sim, { service: s.service.name, users: opts.users });
  const offered = opts.offeredRps;
  const input = offered ? { ...truth, demandRps: (g: string) => offered[g] ?? truth.demandRps(g) } : truth;
  const out: Record<string, Record<string, number>> = {};
  // The true variability too: the live policy calibrates it on the pods' measured queue wait.
  for (const [g, shares] of sharesOf(createProximaPolicy({ serviceCv2: serviceCv2(sim) }).assign(input))) {
    out[g] = Object.fromEntries([...shares].map(([n, x]) => [n, Math.round(x * 1000) / 10]));
  }
  return out;
}
