import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RevisionAutoscaler } from '../../autoscaler/revision.js';
import { mulberry32 } from '../../util/rng.js';
import { EmulatedCluster } from '../cluster.js';
import { proximaExtenderConfig } from '../scheduler/extender-client.js';
import type { RequestRecord } from '../stats.js';
import { analyseRun, type RunMeasures, type StepGatewayDemand } from './analysis.js';
import { KpaLoop } from './kpa-loop.js';
import { RevisionPods } from './revision-pods.js';
import { closedLoopClusterTiming, type ClosedLoopScenario, type ClosedLoopSetup } from './scenario.js';

/** One setup under one seed: a fresh emulated cluster, the load with its step, the KPA and the scheduler live. */

export interface ClosedLoopRun {
  readonly setup: string;
  readonly seed: number;
  readonly measures: RunMeasures;
  /** Replica count after each KPA decision that changed it (ms after the step). */
  readonly scaleEvents: ReadonlyArray<{ readonly tMs: number; readonly pods: number; readonly panicking: boolean }>;
  /** The extender's /debug/placements at the end (with the extender only). */
  readonly placements?: unknown;
}

/** The part of an extender decision in /debug/placements read here (src/extender/decisions.ts). */
interface Decision {
  readonly pod: string;
  readonly node: string;
  readonly reason: string;
  readonly demand?: ReadonlyArray<StepGatewayDemand & { readonly gateway: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runClosedLoopOnce(
  sc: ClosedLoopScenario,
  setup: ClosedLoopSetup,
  outDir: string,
  progress: (m: string) => void,
): Promise<ClosedLoopRun> {
  const say = (m: string) => progress(`[${setup.label} seed ${sc.seed}] ${m}`);
  const cluster = new EmulatedCluster({
    scenario: sc.base,
    outDir,
    ...closedLoopClusterTiming(sc),
    progress: say,
  });
  let stopped = false;
  try {
    await cluster.startNodes();
    await cluster.startControlPlane(setup.policy);
    await cluster.startGateways();
    await sleep(sc.base.warmupMs);
    const t0 = performance.now();
    const clockMs = () => performance.now() - t0;
    const pods = new RevisionPods(cluster, {
      template: {
        service: sc.base.service.name,
        concurrency: sc.containerConcurrency,
        serviceTimeMs: sc.base.pods[0]!.serviceTimeMs,
        serviceTimeCv: sc.base.pods[0]!.serviceTimeCv,
        statWindowMs: sc.kpa.bucketMs,
      },
      revision: 'hello-00001',
      requests: sc.podRequests,
      nodes: sc.nodeCapacity,
      ...(setup.extender ? { extender: proximaExtenderConfig(cluster.extenderUrl) } : {}),
      rng: mulberry32(sc.seed * 7919 + 17),
      startDelayMs: sc.podStartMs,
      maxPods: 12,
      clockMs,
      progress: say,
    });
    // Started now, without history: like a restarted Knative autoscaler it holds the ready pods in panic
    // mode until it has a stable window of data (autoscaler.go newAutoscaler), instead of acting on a
    // few seconds of samples.
    const autoscaler = new RevisionAutoscaler(sc.kpa, sc.containerConcurrency, pods.readyCount, 0);
    const loop = new KpaLoop(cluster, pods, autoscaler, {
      bucketMs: sc.kpa.bucketMs,
      tickMs: sc.kpa.tickMs,
      clockMs,
      withActivator: false,
      progress: say,
    });
    loop.start();
    const stopSampling = cluster.sampleControlPlane(1000);
    const total = sc.beforeMs + sc.stepMs + sc.afterMs;
    say(
      `load ${JSON.stringify(sc.baseRps)} req/s for ${total / 1000} s; +${sc.stepExtraRps} req/s at ${sc.stepGateway} from ${sc.beforeMs / 1000} s for ${sc.stepMs / 1000} s`,
    );
    const base = cluster.runLoad(`${setup.label}-base`, new Map(Object.entries(sc.baseRps)), total, sc.seed);
    const step = sleep(sc.beforeMs).then(async () => {
      const at = clockMs();
      say(`t=${(at / 1000).toFixed(1)} s demand steps up at ${sc.stepGateway}`);
      const r = await cluster.runLoad(`${setup.label}-step`, new Map([[sc.stepGateway, sc.stepExtraRps]]), sc.stepMs, sc.seed + 1000);
      return { at, r };
    });
    const [b, s] = await Promise.all([base, step]);
    loop.stop();
    await pods.close();
    const controlPlane = await stopSampling();
    writeFileSync(join(outDir, `control-plane-${setup.label}-seed${sc.seed}.json`), JSON.stringify(controlPlane, null, 1) + '\n');
    const placements = setup.extender ? await fetchJson(`${cluster.adminUrl}/debug/placements`) : undefined;
    await cluster.saveDebug(`${setup.label}-seed${sc.seed}`);
    const records: RequestRecord[] = [...b.records, ...s.r.records.map((r) => ({ ...r, startMs: r.startMs + s.at }))];
    const stepAtMs = s.at;
    const fallAtMs = s.at + sc.stepMs;
    const reasons = new Map<string, string>();
    const stepDemand = new Map<string, StepGatewayDemand>();
    for (const d of (placements as { decisions?: Decision[] } | undefined)?.decisions ?? []) {
      const pod = d.pod.split('/')[1]!;
      reasons.set(pod, `extender prefers ${d.node}: ${d.reason}`);
      const at = d.demand?.find((x) => x.gateway === sc.stepGateway);
      if (at) stepDemand.set(pod, at);
    }
    const measures = analyseRun({
      records,
      windowMs: sc.probeIntervalMs,
      stepAtMs,
      fallAtMs,
      endMs: total,
      stepGateway: sc.stepGateway,
      pods: pods.records.map((p) => ({
        name: p.name,
        node: p.node,
        createdAtMs: p.createdAtMs,
        ...(p.readyAtMs !== undefined ? { readyAtMs: p.readyAtMs } : {}),
        ...(p.firstServedAtMs !== undefined ? { firstServedAtMs: p.firstServedAtMs } : {}),
        ...(p.deletedAtMs !== undefined ? { deletedAtMs: p.deletedAtMs } : {}),
        initial: p.decision === undefined,
        ...(reasons.has(p.name) ? { reason: reasons.get(p.name)! } : {}),
        ...(stepDemand.has(p.name) ? { stepGatewayDemand: stepDemand.get(p.name)! } : {}),
        ...(p.decision ? { scores: Object.fromEntries(p.decision.scores.map((x) => [x.node, x.total])) } : {}),
      })),
    });
    const scaleEvents: Array<{ tMs: number; pods: number; panicking: boolean }> = [];
    for (const t of loop.ticks)
      if (t.valid && t.wantPods !== scaleEvents.at(-1)?.pods)
        scaleEvents.push({ tMs: Math.round(t.atMs - stepAtMs), pods: t.wantPods, panicking: t.panicking });
    const run: ClosedLoopRun = { setup: setup.label, seed: sc.seed, measures, scaleEvents, ...(placements ? { placements } : {}) };
    writeFileSync(join(outDir, `run-${setup.label}-seed${sc.seed}.json`), JSON.stringify(run, null, 2) + '\n');
    say(
      `during: mean ${measures.during.meanMs} ms, p95 ${measures.during.p95Ms} ms; ${sc.stepGateway} local ${(measures.plateauLocalShare * 100).toFixed(1)} % (plateau); ` +
        `pods added on ${JSON.stringify(measures.landed)}; scale-up ${measures.scaleUpMs ?? '-'} ms, local ≥ 95 % from ${measures.localRecoveryMs ?? '-'} ms`,
    );
    await cluster.shutdown();
    stopped = true;
    return run;
  } finally {
    if (!stopped) await cluster.shutdown();
  }
}

export async function fetchJson(url: string): Promise<unknown> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return r.ok ? await r.json() : `HTTP ${r.status}`;
  } catch (err) {
    return `unavailable: ${(err as Error).message}`;
  }
}
