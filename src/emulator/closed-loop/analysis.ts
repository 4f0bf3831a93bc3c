import { summarise, type RequestRecord } from '../stats.js';

/**
 * What one closed-loop run showed (pure): latency before, during and after the step, the step
 * gateway's local share over time, where the added pods landed and when they served, and how long
 * routing took to bring the step gateway's traffic home.
 */

export interface PhaseSummary {
  readonly requests: number;
  readonly errors: number;
  readonly meanMs: number;
  readonly p95Ms: number;
  /** Share of successful requests served on their entry node (every gateway). */
  readonly localShare: number;
  /** The same for requests entering the step gateway only. */
  readonly stepGatewayLocalShare: number;
  /** Mean latency of the requests entering the step gateway (where a misplaced pod costs). */
  readonly stepGatewayMeanMs: number;
}

export interface AddedPod {
  readonly name: string;
  readonly node: string;
  /** ms after the step (negative: before it). */
  readonly createdMs: number;
  readonly readyMs?: number;
  readonly firstServedMs?: number;
  readonly deletedMs?: number;
  /** The extender's reason for its node (when the extender was asked). */
  readonly reason?: string;
  /** Total scheduler score per node. */
  readonly scores?: Record<string, number>;
  /** The step gateway's demand as the extender saw it for this pod, and which input decided it. */
  readonly stepGatewayDemand?: StepGatewayDemand;
}

export interface StepGatewayDemand {
  readonly rps: number;
  readonly lrsRps: number;
  readonly localPodsRps?: number;
  readonly source: string;
}

export interface RunMeasures {
  readonly before: PhaseSummary;
  readonly during: PhaseSummary;
  readonly after: PhaseSummary;
  /** The step gateway's local share per window (`windowMs`) from the step to the end (ms after the step). */
  readonly stepGatewayTimeline: ReadonlyArray<{ readonly tMs: number; readonly requests: number; readonly localShare: number }>;
  readonly addedPods: readonly AddedPod[];
  /** Pods added while the step lasted, per node. */
  readonly landed: Record<string, number>;
  /** Step → the last pod added during the step is ready (undefined: no pod was added). */
  readonly scaleUpMs?: number;
  /** Step → a pod added on the step gateway's node served its first request. */
  readonly newLocalPodServingMs?: number;
  /** Step → from this window on, the step gateway's local share stays ≥ 95 % in every window until the fall. */
  readonly localRecoveryMs?: number;
  /** The step gateway's local share over the second half of the step. */
  readonly plateauLocalShare: number;
}

export const LOCAL_SHARE_GOAL = 0.95;

export interface AnalysisInput {
  readonly records: readonly RequestRecord[];
  /**
   * The local share is measured per window of this length from the step on: the probe interval, the
   * unit the recovery goal is stated in (1 s in the scenario: ~50 requests enter the step gateway).
   */
  readonly windowMs: number;
  readonly stepAtMs: number;
  readonly fallAtMs: number;
  readonly endMs: number;
  readonly stepGateway: string;
  readonly pods: ReadonlyArray<{
    name: string;
    node: string;
    createdAtMs: number;
    readyAtMs?: number;
    firstServedAtMs?: number;
    deletedAtMs?: number;
    initial: boolean;
    reason?: string;
    scores?: Record<string, number>;
    stepGatewayDemand?: StepGatewayDemand;
  }>;
}

function localShare(rs: readonly RequestRecord[]): number {
  const ok = rs.filter((r) => r.ok);
  return ok.length ? ok.filter((r) => r.servedBy === r.gateway).length / ok.length : NaN;
}

function phase(rs: readonly RequestRecord[], gateway: string): PhaseSummary {
  const s = summarise(rs);
  const atGateway = rs.filter((r) => r.gateway === gateway);
  return {
    requests: s.requests,
    errors: s.errors,
    meanMs: s.meanMs,
    p95Ms: s.p95Ms,
    localShare: s.localShare,
    stepGatewayLocalShare: Math.round(localShare(atGateway) * 10_000) / 10_000,
    stepGatewayMeanMs: summarise(atGateway).meanMs,
  };
}

export function analyseRun(a: AnalysisInput): RunMeasures {
  const within = (from: number, to: number) => a.records.filter((r) => r.startMs >= from && r.startMs < to);
  const g = a.stepGateway;
  if (!(a.windowMs > 0)) throw new RangeError('analyseRun: windowMs must be > 0');
  const timeline: Array<{ tMs: number; requests: number; localShare: number }> = [];
  for (let i = 0; a.stepAtMs + (i + 1) * a.windowMs <= a.endMs; i++) {
    const t = a.stepAtMs + i * a.windowMs;
    const rs = within(t, t + a.windowMs).filter((r) => r.gateway === g);
    timeline.push({ tMs: i * a.windowMs, requests: rs.length, localShare: Math.round(localShare(rs) * 10_000) / 10_000 });
  }
  const rel = (x: number | undefined) => (x === undefined ? undefined : Math.round(x - a.stepAtMs));
  const added: AddedPod[] = a.pods
    .filter((p) => !p.initial)
    .map((p) => {
      const readyMs = rel(p.readyAtMs);
      const firstServedMs = rel(p.firstServedAtMs);
      const deletedMs = rel(p.deletedAtMs);
      return {
        name: p.name,
        node: p.node,
        createdMs: rel(p.createdAtMs)!,
        ...(readyMs !== undefined ? { readyMs } : {}),
        ...(firstServedMs !== undefined ? { firstServedMs } : {}),
        ...(deletedMs !== undefined ? { deletedMs } : {}),
        ...(p.reason ? { reason: p.reason } : {}),
        ...(p.scores ? { scores: p.scores } : {}),
        ...(p.stepGatewayDemand ? { stepGatewayDemand: p.stepGatewayDemand } : {}),
      };
    });
  const stepSpan = a.fallAtMs - a.stepAtMs;
  const duringStep = added.filter((p) => p.createdMs >= 0 && p.createdMs < stepSpan);
  const landed: Record<string, number> = {};
  for (const p of duringStep) landed[p.node] = (landed[p.node] ?? 0) + 1;
  const readies = duringStep.map((p) => p.readyMs);
  const scaleUpMs = readies.length > 0 && readies.every((r) => r !== undefined) ? Math.max(...(readies as number[])) : undefined;
  const localServing = duringStep.filter((p) => p.node === g && p.firstServedMs !== undefined).map((p) => p.firstServedMs!);
  const stepWindows = timeline.filter((w) => w.tMs + a.windowMs <= stepSpan);
  let recovery: number | undefined;
  for (let i = stepWindows.length - 1; i >= 0; i--) {
    if (!(stepWindows[i]!.localShare >= LOCAL_SHARE_GOAL)) break;
    recovery = stepWindows[i]!.tMs;
  }
  return {
    before: phase(within(0, a.stepAtMs), g),
    during: phase(within(a.stepAtMs, a.fallAtMs), g),
    after: phase(within(a.fallAtMs, a.endMs), g),
    stepGatewayTimeline: timeline,
    addedPods: added,
    landed,
    ...(scaleUpMs !== undefined ? { scaleUpMs } : {}),
    ...(localServing.length ? { newLocalPodServingMs: Math.min(...localServing) } : {}),
    ...(recovery !== undefined ? { localRecoveryMs: recovery } : {}),
    plateauLocalShare:
      Math.round(localShare(within(a.stepAtMs + stepSpan / 2, a.fallAtMs).filter((r) => r.gateway === g)) * 10_000) / 10_000,
  };
}

/** "returns to ≥ 95 % within the scale-up time plus 2 probe intervals". */
export function recoveredInTime(m: RunMeasures, probeIntervalMs: number): boolean {
  return m.scaleUpMs !== undefined && m.localRecoveryMs !== undefined && m.localRecoveryMs <= m.scaleUpMs + 2 * probeIntervalMs;
}
