import { idleSettleMs, ratePerGateway, type DemoScenario } from './demo-scenario.js';
import { policyByName } from '../policy/index.js';
import type { Policy } from '../policy/types.js';
import { sigmaForCv } from '../util/rng.js';
import { DEFAULT_LOOP_VIEW, type LoopViewOptions } from './loop-view.js';
import type { Scenario, SimLink, SimNode } from './scenario.js';
import { runSimulation, type RunOptions } from './simulator.js';
import { levelDynamics, poolDynamics, sharesOf, type LevelDynamics, type Routed, type ServedByNode, type ShareSample } from './dynamics.js';

/**
 * The demo's scenario in the policy simulator (pure): same nodes, links (netem's normal jitter per
 * direction), pods, users split over the entry gateways, Poisson arrivals, policies and measurement
 * loop, so that `proxima demo` can put the simulator's prediction beside what it measured.
 */

/** RTT the demo's delay proxies use for node pairs without a link (linkSpecs' default). */
export const DEMO_DEFAULT_RTT_MS = 50;
/** `proxima serve` as the demo starts it: --lrs-interval-ms 1000 --recompute-interval-ms 1000. */
export const DEMO_LRS_INTERVAL_MS = 1000;
export const DEMO_RECOMPUTE_MS = 1000;
/** The demo's node agents scrape their queue-proxies this often (`proxima probe --queue-proxy-interval-ms`). */
export const DEMO_QUEUE_PROXY_INTERVAL_MS = 2000;
/**
 * The deadline the demo's load generators give every request. The simulator has none, so a
 * prediction counts its latencies past it at the deadline, as the live summary counts timed-out requests.
 */
export const DEMO_CLIENT_DEADLINE_MS = 10_000;
export const DEMO_LOOP_VIEW: LoopViewOptions = {
  ...DEFAULT_LOOP_VIEW,
  lrsIntervalMs: DEMO_LRS_INTERVAL_MS,
  podScrapeIntervalMs: DEMO_QUEUE_PROXY_INTERVAL_MS,
};
export const DEMO_SEGMENTS_PER_DIRECTION = 2;
/**
 * Independent seeds per (policy, level): the prediction is an expectation, not one noisy draw.
 * About 40 s measured per cell, 2 to 8 runs.
 */
export function defaultReplications(demo: DemoScenario): number {
  return Math.min(8, Math.max(2, Math.ceil(40_000 / Math.max(1, demo.measureMs))));
}

/**
 * Simulated measurement per cell for a policy that reads the queueing its own weights cause (FaaSt's
 * P_j): its weights oscillate, so one run's mean is one draw of a slowly mixing process (8 seeded
 * 120 s runs at 45 users: cv 0.24 of the mean) and the prediction must average many to be an
 * expectation that one live seed can be held to.
 */
export const FEEDBACK_SIMULATED_MS = 20 * 60_000;

/** Does this demo label's policy feed back on the queueing it causes (reads the pods' latency, queue wait included)? */
export function feedsBackOnQueueing(label: string): boolean {
  return simPolicyFor(label).policy.reads?.includes('pod-latency') ?? false;
}

/** Seeded runs per cell for `label`: enough for the prediction to be an expectation. */
export function replicationsFor(demo: DemoScenario, label: string): number {
  const base = defaultReplications(demo);
  return feedsBackOnQueueing(label) ? Math.min(16, Math.max(base, Math.ceil(FEEDBACK_SIMULATED_MS / Math.max(1, demo.measureMs)))) : base;
}

/** The policy a demo label runs in the simulator, and what the simulation leaves out. */
export function simPolicyFor(label: string): { policy: Policy; note?: string } {
  const [base, ...extras] = label.split('+');
  const policy = policyByName(base!);
  if (extras.includes('extproc')) {
    return { policy, note: `${label}: simulated as ${base} (EDS weights); ext_proc's per-request picking is not modelled` };
  }
  return { policy };
}

/** The simulator's world at one load level (user shares depend on the level: users are whole). */
export function simScenarioFor(demo: DemoScenario, users: number): Scenario {
  const rates = ratePerGateway(demo, users);
  const totalRps = users * demo.ratePerUser;
  const first = demo.pods[0];
  const nodes: SimNode[] = demo.nodes.map((n) => {
    const groups = demo.pods.filter((p) => p.node === n.name);
    const g = groups[0];
    return {
      name: n.name,
      pods: groups.reduce((a, p) => a + p.count, 0),
      slotsPerPod: g?.concurrency ?? 1,
      userShare: totalRps > 0 ? (rates.get(n.name) ?? 0) / totalRps : 0,
      ...(g ? { serviceTimeMs: g.serviceTimeMs, serviceSigma: sigmaForCv(g.serviceTimeCv) } : {}),
    };
  });
  const links: SimLink[] = [];
  for (let i = 0; i < demo.nodes.length; i++) {
    for (let j = i + 1; j < demo.nodes.length; j++) {
      const a = demo.nodes[i]!.name;
      const b = demo.nodes[j]!.name;
      const l = demo.links.find((k) => (k.a === a && k.b === b) || (k.a === b && k.b === a));
      links.push({ a, b, rttMs: l?.rttMs ?? DEMO_DEFAULT_RTT_MS, jitterMs: l?.jitterMs ?? 0 });
    }
  }
  return {
    name: `demo-${users}users`,
    description: `the demo's scenario at ${users} users (${totalRps} req/s)`,
    nodes,
    links,
    // Same-node requests pass the node's delay proxy undelayed; the proxy hop is part of the overhead.
    localRttMs: 0,
    serviceTimeMs: first?.serviceTimeMs ?? 20,
    serviceSigma: sigmaForCv(first?.serviceTimeCv ?? 0),
    rpsPerUser: demo.ratePerUser,
    rttJitter: 'normal',
    // A gRPC call crosses the delay proxy as about two writes each way (measured: 100 ± 20 ms links
    // give a ~112 ms mean at low rate, 0.56 × jitter above the mean, as the max of two samples does).
    segmentsPerDirection: DEMO_SEGMENTS_PER_DIRECTION,
  };
}

export interface DemoSimOptions {
  readonly probeIntervalMs: number;
  readonly overheadMs?: number;
  /** Latencies past this count at it (default DEMO_CLIENT_DEADLINE_MS, the live client's deadline). */
  readonly deadlineMs?: number;
}

/**
 * What the control plane lived through before a level: runComparison's idle settle time after the
 * gateways start, then every earlier level (warm-up + measure) against the same control plane.
 */
export function demoPrelude(demo: DemoScenario, users: number): NonNullable<RunOptions['prelude']> {
  const before = demo.users.slice(0, Math.max(0, demo.users.indexOf(users)));
  return [
    { durationMs: idleSettleMs(demo), rpsByGateway: {} },
    ...before.map((u) => ({ durationMs: demo.warmupMs + demo.measureMs, rpsByGateway: Object.fromEntries(ratePerGateway(demo, u)) })),
  ];
}

/** One simulation run of a demo level, as the demo runs it (history, warm-up, measure; same loop intervals). */
export function simRunFor(demo: DemoScenario, label: string, users: number, replication: number, o: DemoSimOptions): RunOptions {
  return {
    prelude: demoPrelude(demo, users),
    scenario: simScenarioFor(demo, users),
    policy: simPolicyFor(label).policy,
    users,
    seed: demo.seed * 1000 + replication,
    warmupMs: demo.warmupMs,
    measureMs: demo.measureMs,
    recomputeMs: DEMO_RECOMPUTE_MS,
    probeIntervalMs: o.probeIntervalMs,
    loop: DEMO_LOOP_VIEW,
    ...(o.overheadMs ? { overheadMs: o.overheadMs } : {}),
  };
}

export interface PredictedLevel {
  readonly users: number;
  readonly requests: number;
  readonly meanMs: number;
  readonly p95Ms: number;
  /** Share of requests served on the node they entered. */
  readonly localShare: number;
  /** The weights over the measured part and where requests went, pooled over the replications. */
  readonly dynamics?: LevelDynamics;
  /** Each replication's own mean and p95: how much one run of this length varies. */
  readonly runMeansMs?: readonly number[];
  readonly runP95sMs?: readonly number[];
}

export interface DemoPrediction {
  /** Fixed per-request overhead added to the simulation (ms), and where it came from. */
  readonly overheadMs: number;
  readonly calibration: string;
  /** Seeded runs per cell (the most of any policy; see `replicationsByPolicy`). */
  readonly replications: number;
  readonly replicationsByPolicy?: Record<string, number>;
  readonly notes: string[];
  /** Per demo policy label, per load level (with the overhead). */
  readonly byPolicy: Record<string, PredictedLevel[]>;
  /** The same without the overhead (the simulator's own model), when it was simulated (not with a given overhead). */
  readonly rawByPolicy?: Record<string, PredictedLevel[]>;
  /** Simulated latencies past this were counted at it (the live client's deadline); absent in older reports. */
  readonly deadlineMs?: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Nearest-rank p95 of ascending values (as the live summary takes it). */
const p95Of = (sorted: readonly number[]) => sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;

/** Every policy at every level, replications pooled. */
export function simulateDemo(demo: DemoScenario, o: DemoSimOptions & { replications?: number }): Record<string, PredictedLevel[]> {
  const out: Record<string, PredictedLevel[]> = {};
  const deadlineMs = o.deadlineMs ?? DEMO_CLIENT_DEADLINE_MS;
  const cap = (x: number) => Math.min(x, deadlineMs);
  for (const label of demo.policies) {
    const reps = o.replications ?? replicationsFor(demo, label);
    out[label] = demo.users.map((users) => {
      const all: number[] = [];
      const runMeansMs: number[] = [];
      const runP95sMs: number[] = [];
      let local = 0;
      const runs: Array<{ dynamics: LevelDynamics; served: ServedByNode; routed: Routed }> = [];
      for (let r = 0; r < reps; r++) {
        const run = simRunFor(demo, label, users, r, o);
        const measureFromMs = (run.prelude ?? []).reduce((a, p) => a + p.durationMs, 0) + run.warmupMs;
        const samples: ShareSample[] = [];
        const res = runSimulation({
          ...run,
          onAssign: (tMs, table) => {
            if (tMs >= measureFromMs) samples.push({ tMs, shares: sharesOf(table) });
          },
        });
        const capped = Array.from(res.latenciesMs, cap); // ascending, as the simulator returns them
        for (const x of capped) all.push(x);
        if (capped.length > 0) {
          runMeansMs.push(round2(meanOf(capped)));
          runP95sMs.push(round2(p95Of(capped)));
        }
        local += res.entryShare * res.requests;
        runs.push({
          dynamics: levelDynamics(samples, run.recomputeMs ?? DEMO_RECOMPUTE_MS, res.servedByNode, res.routed),
          served: res.servedByNode,
          routed: res.routed,
        });
      }
      const dynamics = poolDynamics(runs);
      all.sort((a, b) => a - b);
      const n = all.length;
      return {
        users,
        requests: n,
        meanMs: n ? round2(meanOf(all)) : NaN,
        p95Ms: n ? round2(p95Of(all)) : NaN,
        localShare: n ? round2(local / n) : NaN,
        ...(dynamics ? { dynamics } : {}),
        runMeansMs,
        runP95sMs,
      };
    });
  }
  return out;
}

export interface PredictOptions extends DemoSimOptions {
  readonly replications?: number;
  /**
   * Measured mean (ms) of a policy at a level, if the demo ran it. The overhead is calibrated as
   * measured − simulated mean of `nearest` at the lowest level (all local: RTT-free, so the gap is
   * the request path's own cost), else `proxima` there. Ignored when `overheadMs` is given.
   */
  readonly measuredMeanMs?: (label: string, users: number) => number | undefined;
  /** How a given `overheadMs` was measured (shown in the report instead of "given"). */
  readonly overheadSource?: string;
}

/** The simulator's prediction for the demo, with a per-request overhead calibrated at the lowest load. */
export function predictDemo(demo: DemoScenario, o: PredictOptions): DemoPrediction {
  const replicationsByPolicy = Object.fromEntries(demo.policies.map((p) => [p, o.replications ?? replicationsFor(demo, p)]));
  const replications = Math.max(...Object.values(replicationsByPolicy));
  const notes = demo.policies.map((p) => simPolicyFor(p).note).filter((n): n is string => Boolean(n));
  const deadlineMs = o.deadlineMs ?? DEMO_CLIENT_DEADLINE_MS;
  const reps = { deadlineMs, ...(o.replications !== undefined ? { replications: o.replications } : {}) };
  // The overhead-free prediction is needed to calibrate from a measured cell, or is the prediction itself.
  const needRaw = !(o.overheadMs !== undefined && o.overheadMs > 0);
  const raw = needRaw ? simulateDemo(demo, { probeIntervalMs: o.probeIntervalMs, ...reps }) : undefined;
  const lowest = Math.min(...demo.users);
  let overheadMs = o.overheadMs ?? 0;
  let calibration = o.overheadMs !== undefined ? (o.overheadSource ?? `given: ${o.overheadMs} ms`) : 'none (no calibration run measured)';
  if (o.overheadMs === undefined && o.measuredMeanMs) {
    for (const label of ['nearest', 'proxima']) {
      const measured = o.measuredMeanMs(label, lowest);
      const sim = raw?.[label]?.find((l) => l.users === lowest)?.meanMs;
      if (measured === undefined || !Number.isFinite(measured) || sim === undefined || !Number.isFinite(sim)) continue;
      overheadMs = round2(Math.max(0, measured - sim));
      calibration = `${label} at ${lowest} users: measured ${measured.toFixed(1)} ms − simulated ${sim.toFixed(1)} ms${measured < sim ? ' (negative, clamped to 0)' : ''}`;
      break;
    }
  }
  const byPolicy = overheadMs > 0 || !raw ? simulateDemo(demo, { probeIntervalMs: o.probeIntervalMs, overheadMs, ...reps }) : raw;
  return { overheadMs, calibration, replications, replicationsByPolicy, notes, byPolicy, ...(raw ? { rawByPolicy: raw } : {}), deadlineMs };
}
