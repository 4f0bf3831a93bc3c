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
  /** Shortest level (and warm-up) the design allows. */
  readonly minLevelMs: number;
}

/** The base policy of a demo setup label ("proxima+extproc" → proxima). */
const basePolicy = (label: string) => label.split('+')[0]!;

export function experimentDesign(policies: readonly string[], o: { probeIntervalMs: number; lrsIntervalMs: number }): ExperimentDesign {
  const windows = estimatorWindows(o);
  let longest: ExperimentDesign['longest'] = { policy: policies[0] ?? '', input: 'none', windowMs: 0, what: 'no estimator' };
  for (const label of policies) {
    for (const input of policyByName(basePolicy(label)).reads ?? []) {
      const w = windows[input];
      if (w.windowMs > longest.windowMs) longest = { policy: label, input, windowMs: w.windowMs, what: w.what };
    }
  }
  return { longest, minLevelMs: LEVEL_WINDOWS * longest.windowMs };
}

/** "30 s (3 × faast's FaaSt's P_j window (10 s))" for logs and the report. */
export function describeDesign(d: ExperimentDesign, levelMs: number): string {
  return (
    `each level ${levelMs / 1000} s after a ${levelMs / 1000} s warm-up; the longest estimator window under test is ` +
    `${d.longest.policy}'s ${d.longest.what} = ${d.longest.windowMs / 1000} s, so a level lasts at least ${LEVEL_WINDOWS} × that = ${d.minLevelMs / 1000} s`
  );
}
