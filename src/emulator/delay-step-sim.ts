import { bestAssignment } from './best.js';
import { EVENTS_USERS, faastScenario, type DemoScenario } from './scenario.js';
import { sharesDistance } from './stats.js';
import { sharesOf } from '../policy/oracle.js';
import { createProximaPolicy, type ProximaOptions } from '../policy/proxima.js';
import type { GatewayAssignment } from '../policy/types.js';
import { DEMO_LOOP_VIEW, DEMO_RECOMPUTE_MS, simScenarioFor } from '../sim/from-demo.js';
import { runSimulation } from '../sim/simulator.js';

/**
 * The demo's delay step in the policy simulator (pure, deterministic per seed): edge-1 without pods,
 * its link to cloud-1 stepping from 50 to 150 ms; where each entry gateway's computed split ends
 * against the best split for the true inputs (the demand each seed's arrivals really drew). The simulator's RTT estimate is a plain EWMA (no shift
 * detection), so how fast a gateway moves is not the live figure; where it ends up is the point.
 */

export interface DelayStepSeed {
  readonly seed: number;
  /** Per entry gateway: largest per-node distance (points) from the best split over the last `tailRecomputes`. */
  readonly endDistance: Record<string, number>;
  /** Per entry gateway: its split at the end (percent per node). */
  readonly endShares: Record<string, Record<string, number>>;
  /** The best split for this seed's true inputs: the demand its arrivals really drew (requests/s per gateway). */
  readonly best: Record<string, Record<string, number>>;
  readonly arrivedRps: Record<string, number>;
}

const STEP_AT_MS = 30_000;

function percent(table: ReadonlyMap<string, GatewayAssignment>): Record<string, Record<string, number>> {
  return Object.fromEntries(
    [...sharesOf(table)].map(([g, s]) => [g, Object.fromEntries([...s].map(([n, x]) => [n, Math.round(x * 1000) / 10]))]),
  );
}

export function delayStepRuns(o: {
  seeds: readonly number[];
  policy?: Partial<ProximaOptions>;
  afterMs?: number;
  tailRecomputes?: number;
}): {
  /** The best split for the configured demand (users × rate); each seed is judged against its own. */
  best: Record<string, Record<string, number>>;
  seeds: DelayStepSeed[];
} {
  const demo: DemoScenario = faastScenario('full', 1);
  const stepped = demo.links.map((l) => (l.a === 'edge-1' && l.b === 'cloud-1' ? { ...l, rttMs: l.rttMs + 100 } : l));
  const withoutEdge1 = { ...demo, pods: demo.pods.filter((p) => p.node !== 'edge-1') };
  const bestFor = (offeredRps?: Readonly<Record<string, number>>) =>
    bestAssignment(demo, { links: stepped, podsDown: new Set(['edge-1']), users: EVENTS_USERS, ...(offeredRps ? { offeredRps } : {}) });
  const gateways = demo.nodes.filter((n) => n.entry).map((n) => n.name);
  const seeds = o.seeds.map((seed) => {
    const rows: Array<Record<string, Record<string, number>>> = [];
    // A fresh policy per seed: its solve memo must not carry one seed's solution into the next.
    const policy = createProximaPolicy(o.policy ?? {});
    const run = runSimulation({
      scenario: simScenarioFor(withoutEdge1, EVENTS_USERS),
      policy,
      users: EVENTS_USERS,
      seed,
      warmupMs: STEP_AT_MS,
      measureMs: o.afterMs ?? 12_000,
      recomputeMs: DEMO_RECOMPUTE_MS,
      probeIntervalMs: 1000,
      loop: DEMO_LOOP_VIEW,
      step: {
        atMs: STEP_AT_MS,
        apply: (w) => w.setRttMs('edge-1', 'cloud-1', stepped.find((l) => l.a === 'edge-1' && l.b === 'cloud-1')!.rttMs, 10),
      },
      onAssign: (t, table) => {
        if (t >= STEP_AT_MS) rows.push(percent(table));
      },
    });
    const tail = rows.slice(-(o.tailRecomputes ?? 4));
    const arrivedRps = Object.fromEntries(gateways.map((g) => [g, Math.round((run.arrivedRps[g] ?? 0) * 100) / 100]));
    const best = bestFor(arrivedRps);
    return {
      seed,
      best,
      arrivedRps,
      endDistance: Object.fromEntries(gateways.map((g) => [g, Math.max(...tail.map((r) => sharesDistance(r[g] ?? {}, best[g] ?? {})))])),
      endShares: Object.fromEntries(gateways.map((g) => [g, rows[rows.length - 1]?.[g] ?? {}])),
    };
  });
  return { best: bestFor(), seeds };
}
