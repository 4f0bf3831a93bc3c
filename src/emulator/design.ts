import { defaultLatencyTauMs } from '../lrs/server.js';
import { DEMAND_STEP_REPORTS } from '../lrs/rate-estimate.js';
import { DEFAULT_PEER_ESTIMATOR_OPTIONS } from '../probe/estimator.js';
import { QUEUE_PROXY_WINDOW_MS } from '../probe/queue-proxy/pod-tracker.js';
import { policyByName } from '../policy/index.js';
import type { PolicyInputKind } from '../policy/types.js';

/**
 * The demo's experiment design (pure): how long a load level must last so that it measures the
 * policy, not the estimators catching up. A policy is only as quick as the slowest estimator it
 * reads; a level lasts `LEVEL_WINDOWS` times the longest such window of any policy under test, after
 * a warm-up of the same length. Windows come from the estimators' own settings, not from here.
 */

/** A level lasts at least this many of the longest estimator window (and so does its warm-up). */
export const LEVEL_WINDOWS = 3;

/**
 * A level under a policy that feeds back on the queueing it causes lasts at least this many periods
 * of that feedback: its weights oscillate, and a level that holds one or two swings measures the
 * phase it caught, not the policy (see docs/experiment-design.md for the figures behind 5).
 */
export const OSCILLATION_PERIODS = 5;

export interface EstimatorWindow {
  readonly input: PolicyInputKind;
  readonly windowMs: number;
  readonly what: string;
}

/** The window (or time constant) of every estimator a policy may read, with the demo's loop settings. */
export function estimatorWindows(o: { probeIntervalMs: number; lrsIntervalMs: number }): Record<PolicyInputKind, EstimatorWindow> {
  const alpha = DEFAULT_PEER_ESTIMATOR_OPTIONS.alpha;
  const latencyTau = defaultLatencyTauMs(o.lrsIntervalMs);
  return {
    rtt: {
      input: 'rtt',
      windowMs: Math.round(o.probeIntervalMs / alpha),
      what: `probe RTT EWMA (α ${alpha} per ${o.probeIntervalMs} ms probe)`,
    },
    // The demand estimate averages since the last change it detected; a new level is such a change.
    demand: {
      input: 'demand',
      windowMs: DEMAND_STEP_REPORTS * o.lrsIntervalMs,
      what: `LRS demand change detection (${DEMAND_STEP_REPORTS} reports of ${o.lrsIntervalMs} ms)`,
    },
    'service-time': {
      input: 'service-time',
      windowMs: Math.max(QUEUE_PROXY_WINDOW_MS, latencyTau),
      what: `queue-proxy latency window (${QUEUE_PROXY_WINDOW_MS / 1000} s; LRS fallback τ ${latencyTau / 1000} s)`,
    },
    'pod-latency': {
      input: 'pod-latency',
      windowMs: QUEUE_PROXY_WINDOW_MS,
      what: `FaaSt's P_j window (${QUEUE_PROXY_WINDOW_MS / 1000} s)`,
    },
  };
}

export interface ExperimentDesign {
  /** The longest estimator window of any policy under test, and whose it is. */
  readonly longest: { readonly policy: string; readonly input: PolicyInputKind | 'none'; readonly windowMs: number; readonly what: string };
  /** A policy under test whose weights feed back on the queueing they cause, and how long one swing of that loop can take. */
  readonly feedback?: { readonly policy: string; readonly periodMs: number; readonly what: string };
  /** Shortest level the design allows. */
  readonly minLevelMs: number;
  /** Shortest warm-up before each level: LEVEL_WINDOWS × the longest window. */
  readonly minWarmupMs: number;
}

export interface LoopSettings {
  readonly probeIntervalMs: number;
  readonly lrsIntervalMs: number;
  /** How often the node agents refresh the pods' latencies (FaaSt: every 2 s). */
  readonly podRefreshMs: number;
}

/**
 * The longest period of a policy's feedback on its own queueing, when it has one. A policy that reads
 * the pods' latency queue wait included (FaaSt's P_j) moves weight away from a node once its window
 * shows the queue its weights built, and back once the window has forgotten it: each half swing
 * waits for a window plus a refresh, so a swing out and back takes at most 2 × (window + refresh).
 * (The simulator's weights swing with a period of 16 s at 25 users and 22 s at 45: `dynamics`.)
 */
export function feedbackPeriod(label: string, o: LoopSettings): { periodMs: number; what: string } | undefined {
  if (!(policyByName(basePolicy(label)).reads ?? []).includes('pod-latency')) return undefined;
  const windowMs = QUEUE_PROXY_WINDOW_MS;
  return {
    periodMs: 2 * (windowMs + o.podRefreshMs),
    what: `its weights follow the queueing they cause (P_j over ${windowMs / 1000} s, refreshed every ${o.podRefreshMs / 1000} s: a swing takes up to 2 × ${(windowMs + o.podRefreshMs) / 1000} s)`,
  };
}

/** The base policy of a demo setup label ("proxima+extproc" → proxima). */
const basePolicy = (label: string) => label.split('+')[0]!;

export function experimentDesign(policies: readonly string[], o: LoopSettings): ExperimentDesign {
  const windows = estimatorWindows(o);
  let longest: ExperimentDesign['longest'] = { policy: policies[0] ?? '', input: 'none', windowMs: 0, what: 'no estimator' };
  let feedback: ExperimentDesign['feedback'];
  for (const label of policies) {
    for (const input of policyByName(basePolicy(label)).reads ?? []) {
      const w = windows[input];
      if (w.windowMs > longest.windowMs) longest = { policy: label, input, windowMs: w.windowMs, what: w.what };
    }
    const f = feedbackPeriod(label, o);
    if (f && f.periodMs > (feedback?.periodMs ?? 0)) feedback = { policy: label, ...f };
  }
  const minWarmupMs = LEVEL_WINDOWS * longest.windowMs;
  return {
    longest,
    ...(feedback ? { feedback } : {}),
    minLevelMs: Math.max(minWarmupMs, OSCILLATION_PERIODS * (feedback?.periodMs ?? 0)),
    minWarmupMs,
  };
}

/** "each level 120 s after a 30 s warm-up; …" for logs and the report. */
export function describeDesign(d: ExperimentDesign, levelMs: number, warmupMs: number): string {
  return (
    `each level ${levelMs / 1000} s after a ${warmupMs / 1000} s warm-up; the longest estimator window under test is ` +
    `${d.longest.policy}'s ${d.longest.what} = ${d.longest.windowMs / 1000} s, so a warm-up lasts at least ${LEVEL_WINDOWS} × that = ${d.minWarmupMs / 1000} s` +
    (d.feedback
      ? `; ${d.feedback.policy} oscillates: ${d.feedback.what}, so a level covers at least ${OSCILLATION_PERIODS} swings = ${(OSCILLATION_PERIODS * d.feedback.periodMs) / 1000} s`
      : `, and so does a level`)
  );
}
