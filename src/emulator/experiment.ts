import { extprocWaits, pickerLevel, type ExtProcWaits, type PickerCounters, type PickerLevel } from './extproc-waits.js';
import { DEMO_CLIENT_DEADLINE_MS, type DemoPrediction } from '../sim/from-demo.js';
import { availableParallelism, loadavg } from 'node:os';
import { bestAssignment } from './best.js';
import { serviceTimeAccuracy, type ServiceTimeAccuracy } from './input-accuracy.js';
import { levelDynamics, type LevelDynamics } from '../sim/dynamics.js';
import { EmulatedCluster } from './cluster.js';
import { idleSettleMs, linkSpecs, ratePerGateway, type DemoScenario } from './scenario.js';
import { activatorChoiceOf, usesExtProc } from './setups.js';
import type { ScaleFromZeroResult } from './scale-from-zero.js';
import {
  failuresStopAfterMs,
  assignmentFirstMoveMs,
  assignmentSettleMs,
  meanShare,
  serviceMoments,
  arrivedRps,
  settledNearMs,
  sharesDistance,
  type ShareSample,
  summarise,
  timeline,
  type LatencySummary,
  type RequestRecord,
  type TimelineBucket,
} from './stats.js';

export interface LevelResult {
  readonly users: number;
  /** The control plane's priority-0 shares per gateway, sampled every second during the level. */
  readonly controlPlane?: unknown[];
  readonly summary: LatencySummary;
  /** Up to 1,000 evenly spaced quantiles of the latency distribution (for CDFs), ms. */
  readonly quantilesMs: number[];
  /** The service time the policy's model used against the pods' true mean, over the measured part. */
  readonly serviceTime?: ServiceTimeAccuracy;
  /**
   * The machine's 1-minute load average when the level started and ended: the emulator shares the
   * CPUs with whatever else runs, and a loaded machine slows every request path.
   */
  readonly machineLoad?: { readonly start: number; readonly end: number; readonly cpus: number };
  /** The weights over the measured part and where requests went (compared with the simulator's). */
  readonly dynamics?: LevelDynamics;
  /** With ext_proc: the measured requests' wait for their decision, and the share that fell back. */
  readonly extproc?: ExtProcWaits;
  /** With ext_proc: the picker's own counters over the level (warm-up included), from /debug/extproc. */
  readonly picker?: PickerLevel;
}

export interface PolicyResult {
  readonly policy: string;
  readonly levels: LevelResult[];
  /** With the activator: the revision's SKS mode and what the gateways reached first. */
  readonly dataPath?: { readonly mode: string; readonly ebc: number; readonly path: string; readonly choice: string };
}

export interface EventMark {
  readonly tMs: number;
  readonly label: string;
}

export interface EventsResult {
  readonly policy: string;
  readonly users: number;
  readonly bucketMs: number;
  readonly marks: EventMark[];
  readonly timeline: TimelineBucket[];
  /** The control plane's priority-0 shares per gateway, sampled every 250 ms. */
  readonly controlPlane: ShareSample[];
  /** Timeline of requests entering edge-1 only (the node whose pods die). */
  readonly edge1Timeline: TimelineBucket[];
  readonly measures: {
    readonly podLossFailuresStopMs: number;
    readonly podLossFailures: number;
    readonly restartFailures: number;
    /** When edge-1's assignment first changed after the delay step. */
    readonly delayStepFirstMoveMs: number;
    /** When edge-1's assignment (the gateway behind the stepped link) stopped moving after the step. */
    readonly delayStepSettleMs: number;
    /** The same for every entry gateway: the others re-plan as the load they carry changes. */
    readonly delayStepSettleByGatewayMs?: Record<string, number>;
    /** Assignment changes (any gateway) the control plane made between the step and the next event. */
    readonly delayStepChanges?: number;
    /** proxima's assignment with the true inputs after the step, and how far (points) each entry gateway ended from it. */
    readonly delayStepBest?: Record<string, Record<string, number>>;
    readonly delayStepBestDistance?: Record<string, number>;
    /** The pods' measured user-container time over the events run (mean, cv), the truth `delayStepBest` is computed with. */
    readonly delayStepService?: { readonly meanMs: number; readonly cv: number };
    /** Requests/s each entry gateway really got up to the end of the step window, the demand `delayStepBest` is computed with. */
    readonly delayStepOfferedRps?: Record<string, number>;
    /** Per entry gateway: time after the step from which its assignment stayed within DELAY_STEP_TOLERANCE_POINTS of the best (NaN: never). */
    readonly delayStepNearBestMs?: Record<string, number>;
    readonly delayStepTolerancePoints?: number;
    /** Change of edge-1's share served on edge-2 across the delay step (0..1). */
    readonly delayStepShift: number;
    readonly probeIntervalMs: number;
  };
}

export interface DemoResults {
  readonly scenario: DemoScenario;
  readonly comparison: PolicyResult[];
  /** The policy simulator's prediction for the same scenario and seed (src/sim/from-demo.ts). */
  readonly predicted?: DemoPrediction;
  /** With the activator: the first request after scale-from-zero. */
  readonly scaleFromZero?: ScaleFromZeroResult;
  readonly events?: EventsResult;
}

function quantiles(records: readonly RequestRecord[], n = 1000): number[] {
  const v = records
    .filter((r) => r.ok)
    .map((r) => r.latencyMs)
    .sort((a, b) => a - b);
  if (v.length <= n) return v;
  return Array.from({ length: n }, (_, i) => v[Math.min(v.length - 1, Math.round((i / (n - 1)) * (v.length - 1)))]!);
}

/** How far (percentage points per node) a gateway's settled assignment may be from the best one for the true inputs. */
export const DELAY_STEP_TOLERANCE_POINTS = 5;

/** How often a comparison level samples the control plane's assignment. */
const CONTROL_PLANE_SAMPLE_MS = 1000;

/** How often the events run samples the control plane's assignment. */
const SAMPLE_MS = 250;

const round2 = (x: number) => Math.round(x * 100) / 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A live level's dynamics: the control plane's samples and the requests from `fromMs` on. */
function liveDynamics(samples: readonly ShareSample[], measured: readonly RequestRecord[], fromMs: number, untilMs: number): LevelDynamics {
  const served: Record<string, { requests: number; inPodSumMs: number; appSumMs: number }> = {};
  const routed: Record<string, Record<string, number>> = {};
  for (const r of measured) {
    if (!r.ok || r.podMs === undefined || r.serviceMs === undefined || !r.servedBy) continue;
    const e = (served[r.servedBy] ??= { requests: 0, inPodSumMs: 0, appSumMs: 0 });
    e.requests++;
    e.inPodSumMs += r.podMs;
    e.appSumMs += r.serviceMs;
    const row = (routed[r.gateway] ??= {});
    row[r.servedBy] = (row[r.servedBy] ?? 0) + 1;
  }
  // The level's own samples: not the warm-up, not the drain after its last arrival.
  return levelDynamics(
    samples.filter((x) => x.tMs >= fromMs && x.tMs < untilMs),
    CONTROL_PLANE_SAMPLE_MS,
    served,
    routed,
  );
}

/** Every policy in turn, same seed and load, each with a fresh control plane and fresh gateways. */
export async function runComparison(
  cluster: EmulatedCluster,
  s: DemoScenario,
  progress: (m: string) => void,
  /** Every request of each level (warm-up included), e.g. to save them. */
  onLevelRecords?: (policy: string, users: number, records: readonly RequestRecord[]) => void,
): Promise<PolicyResult[]> {
  const out: PolicyResult[] = [];
  for (const [pi, policy] of s.policies.entries()) {
    progress(`[${pi + 1}/${s.policies.length}] ${policy}: starting control plane and gateways`);
    if (s.activator) cluster.setActivatorChoice(activatorChoiceOf(policy));
    await cluster.startControlPlane(policy);
    await cluster.startGateways();
    // Let the probes and LRS see the cluster before measuring.
    await sleep(idleSettleMs(s));
    const levels: LevelResult[] = [];
    for (const [li, users] of s.users.entries()) {
      const rates = ratePerGateway(s, users);
      const total = s.warmupMs + s.measureMs;
      const stopSampling = cluster.sampleControlPlane(CONTROL_PLANE_SAMPLE_MS);
      const loadStart = loadavg()[0]!;
      const pickerBefore = usesExtProc(policy) ? await pickerCounters(cluster.adminUrl) : undefined;
      const { records, dropped } = await cluster.runLoad(`${policy}-${users}`, rates, total, s.seed + li);
      const picker = pickerBefore ? pickerLevel(pickerBefore, await pickerCounters(cluster.adminUrl)) : undefined;
      const machineLoad = { start: round2(loadStart), end: round2(loadavg()[0]!), cpus: availableParallelism() };
      const controlPlane = await stopSampling();
      onLevelRecords?.(policy, users, records);
      const measured = records.filter((r) => r.startMs >= s.warmupMs);
      const summary = summarise(measured, dropped, DEMO_CLIENT_DEADLINE_MS);
      const serviceTime = serviceTimeAccuracy(records, controlPlane, s.warmupMs);
      const dynamics = liveDynamics(controlPlane as ShareSample[], measured, s.warmupMs, total);
      const waits = extprocWaits(measured);
      levels.push({
        users,
        summary,
        quantilesMs: quantiles(measured),
        controlPlane,
        ...(serviceTime ? { serviceTime } : {}),
        machineLoad,
        dynamics,
        ...(waits ? { extproc: waits } : {}),
        ...(picker ? { picker } : {}),
      });
      progress(
        `[${pi + 1}/${s.policies.length}] ${policy}: ${users} users (${[...rates.values()].reduce((a, b) => a + b, 0)} req/s) ` +
          `mean ${summary.meanMs} ms, p95 ${summary.p95Ms} ms, local ${(summary.localShare * 100).toFixed(1)} %, errors ${summary.errors}` +
          (serviceTime
            ? `, model service time within ${serviceTime.tolerance * 100} % of the pods' true mean in ${(serviceTime.modelWithinShare * 100).toFixed(0)} % of samples (raw pod signal ${(serviceTime.rawWithinShare * 100).toFixed(0)} %)`
            : '') +
          (waits
            ? (waits.requests > 0
                ? `, ext_proc decision wait p50/p95/p99 ${waits.p50Ms}/${waits.p95Ms}/${waits.p99Ms} ms, ${(waits.fellBackShare * 100).toFixed(1)} % fell back to the EDS weights`
                : ', no ext_proc decision asked') +
              `, ${(waits.skippedShare * 100).toFixed(1)} % skipped the picker (route disables ext_proc)`
            : '') +
          (picker
            ? `, picks ${JSON.stringify(picker.rules)} (${(picker.saturatedShare * 100).toFixed(1)} % saturated), extra hold ≤ ${picker.maxExtraHoldMs} ms`
            : '') +
          `; machine load ${machineLoad.start}→${machineLoad.end} on ${machineLoad.cpus} CPUs`,
      );
    }
    out.push({ policy, levels, ...(cluster.dataPathState ? { dataPath: cluster.dataPathState } : {}) });
    await cluster.saveDebug(policy);
    await cluster.stopGateways();
    await cluster.stopControlPlane();
    if (!(await cluster.waitIdle(30_000)))
      progress(`[${pi + 1}/${s.policies.length}] ${policy}: pods still busy 30 s after the load stopped`);
  }
  return out;
}

/**
 * Scripted events under one policy and constant load: edge-1 loses its pods, the edge-1↔cloud-1 link
 * steps from its RTT to +100 ms, the pods come back, the control plane restarts.
 */
export async function runEvents(
  cluster: EmulatedCluster,
  s: DemoScenario,
  opts: { policy: string; users: number; probeIntervalMs: number; quick: boolean },
  progress: (m: string) => void,
): Promise<EventsResult> {
  const unit = opts.quick ? 7000 : 12_000;
  const marks: EventMark[] = [
    { tMs: unit, label: 'edge-1 pods die' },
    { tMs: 2 * unit, label: 'edge-1↔cloud-1 +100 ms' },
    { tMs: 3 * unit, label: 'edge-1 pods back' },
    { tMs: 4 * unit, label: 'control plane restart' },
  ];
  const durationMs = 5 * unit;
  progress(
    `events: ${opts.policy} at ${opts.users} users for ${durationMs / 1000} s: ${marks.map((m) => `${m.tMs / 1000}s ${m.label}`).join(', ')}`,
  );
  if (s.activator) cluster.setActivatorChoice(activatorChoiceOf(opts.policy));
  await cluster.startControlPlane(opts.policy);
  await cluster.startGateways();
  await sleep(3000);
  const stopSampling = cluster.sampleControlPlane(SAMPLE_MS);
  const started = performance.now();
  const at = (tMs: number, fn: () => Promise<void> | void) =>
    sleep(Math.max(0, tMs - (performance.now() - started))).then(async () => {
      progress(`events: t=${((performance.now() - started) / 1000).toFixed(1)} s ${marks.find((m) => m.tMs === tMs)?.label ?? ''}`);
      await fn();
    });
  // While edge-1 has no pods its traffic goes to the cloud (50 ms; edge-2 is busy with its own); a
  // slower cloud link must move it to edge-2 — a step that changes the best assignment.
  const stepped = s.links.map((l) =>
    (l.a === 'edge-1' && l.b === 'cloud-1') || (l.a === 'cloud-1' && l.b === 'edge-1') ? { ...l, rttMs: l.rttMs + 100 } : l,
  );
  const steppedLinks = linkSpecs({ ...s, links: stepped });
  const script = Promise.all([
    at(marks[0]!.tMs, async () => {
      await cluster.podsAction('edge-1', 'stop');
      // kubelet notices (readiness) and the EndpointSlice follows about half a second later.
      await sleep(500);
      await cluster.setNodePodsReady('edge-1', false);
    }),
    at(marks[1]!.tMs, () => cluster.setLinks(steppedLinks)),
    at(marks[2]!.tMs, async () => {
      await cluster.podsAction('edge-1', 'start');
      await sleep(500);
      await cluster.setNodePodsReady('edge-1', true);
    }),
    at(marks[3]!.tMs, async () => {
      await cluster.stopControlPlane();
      await sleep(1000);
      await cluster.startControlPlane(opts.policy);
    }),
  ]);
  const load = cluster.runLoad(`events-${opts.policy}`, ratePerGateway(s, opts.users), durationMs, s.seed + 99);
  const [{ records }] = await Promise.all([load, script]);
  const samples = (await stopSampling()) as ShareSample[];
  await cluster.stopGateways();
  await cluster.stopControlPlane();
  cluster.setLinks(linkSpecs(s));

  const bucketMs = 250;
  const all = timeline(records, bucketMs);
  const edge1 = timeline(
    records.filter((r) => r.gateway === 'edge-1'),
    bucketMs,
  );
  const entries = s.nodes.filter((n) => n.entry).map((n) => n.name);
  const stepWindow = samples.filter((x) => x.tMs >= marks[1]!.tMs && x.tMs < marks[2]!.tMs);
  const settledRows = stepWindow[stepWindow.length - 1]?.shares ?? {};
  // The truth is what the pods really took (timer and CPU overhead included), not the nominal: over the
  // whole run, since the pods do not change with the events, so that sampling noise (±1.4 % over the
  // step's 12 s, ±0.6 % over the run) does not move the best split the policy is judged against.
  const stepService = serviceMoments(records);
  // And the demand is what the gateways really got up to the end of the step window (all the control
  // plane's demand estimate could know, the run's demand never changing), not the configured mean:
  // edge-2's best split moves about 2 points per request/s of edge-1's demand, and the Poisson draw
  // is ±1 request/s off over those 36 s.
  const stepOffered = arrivedRps(records, 0, marks[2]!.tMs);
  const best = bestAssignment(s, {
    links: stepped,
    podsDown: new Set(['edge-1']),
    users: opts.users,
    ...(stepService ? { service: stepService } : {}),
    offeredRps: stepOffered,
  });
  const lossWindow = records.filter((r) => r.startMs >= marks[0]!.tMs - 500 && r.startMs < marks[1]!.tMs);
  const restartWindow = records.filter((r) => r.startMs >= marks[3]!.tMs && r.startMs < durationMs);
  return {
    policy: opts.policy,
    users: opts.users,
    bucketMs,
    marks,
    timeline: all,
    edge1Timeline: edge1,
    controlPlane: samples,
    measures: {
      podLossFailuresStopMs: failuresStopAfterMs(all, marks[0]!.tMs, bucketMs, marks[1]!.tMs),
      podLossFailures: lossWindow.filter((r) => !r.ok).length,
      restartFailures: restartWindow.filter((r) => !r.ok).length,
      // When edge-1's assignment stopped moving (the control plane's view; served shares per 250 ms
      // bucket are too few requests to tell a split from noise).
      delayStepFirstMoveMs: assignmentFirstMoveMs(samples, 'edge-1', marks[1]!.tMs, marks[2]!.tMs),
      delayStepSettleMs: assignmentSettleMs(samples, 'edge-1', marks[1]!.tMs, marks[2]!.tMs),
      delayStepSettleByGatewayMs: Object.fromEntries(entries.map((g) => [g, assignmentSettleMs(samples, g, marks[1]!.tMs, marks[2]!.tMs)])),
      delayStepChanges: stepWindow.filter(
        (x, i) => i > 0 && entries.some((g) => sharesDistance(x.shares[g] ?? {}, stepWindow[i - 1]!.shares[g] ?? {}) > 1),
      ).length,
      delayStepBest: Object.fromEntries(entries.map((g) => [g, best[g] ?? {}])),
      delayStepBestDistance: Object.fromEntries(entries.map((g) => [g, sharesDistance(settledRows[g] ?? {}, best[g] ?? {})])),
      delayStepNearBestMs: Object.fromEntries(
        entries.map((g) => [g, settledNearMs(samples, g, best[g] ?? {}, marks[1]!.tMs, marks[2]!.tMs, DELAY_STEP_TOLERANCE_POINTS)]),
      ),
      delayStepTolerancePoints: DELAY_STEP_TOLERANCE_POINTS,
      ...(stepService ? { delayStepService: stepService } : {}),
      delayStepOfferedRps: stepOffered,
      // How much of edge-1's traffic the step moved to edge-2 (last second before vs after): proves the step mattered.
      delayStepShift:
        meanShare(edge1, 'edge-2', marks[2]!.tMs - 1000, marks[2]!.tMs) - meanShare(edge1, 'edge-2', marks[1]!.tMs - 1000, marks[1]!.tMs),
      probeIntervalMs: opts.probeIntervalMs,
    },
  };
}

/** The picker's counters from the control plane's /debug/extproc (empty when it cannot be read: the level still counts). */
async function pickerCounters(adminUrl: string): Promise<PickerCounters> {
  try {
    const r = await fetch(`${adminUrl}/debug/extproc`, { signal: AbortSignal.timeout(5000) });
    return r.ok ? ((await r.json()) as PickerCounters) : {};
  } catch {
    return {};
  }
}
