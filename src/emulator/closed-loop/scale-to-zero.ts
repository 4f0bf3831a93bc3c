import { RevisionAutoscaler } from '../../autoscaler/revision.js';
import { mulberry32 } from '../../util/rng.js';
import { EmulatedCluster } from '../cluster.js';
import { proximaExtenderConfig } from '../scheduler/extender-client.js';
import { summarise } from '../stats.js';
import { KpaLoop } from './kpa-loop.js';
import { fetchJson } from './run.js';
import { RevisionPods } from './revision-pods.js';
import { closedLoopClusterTiming, type ClosedLoopScenario } from './scenario.js';

/**
 * Scale to zero and back through the activator, with nothing scripted but the one request: the KPA
 * sees no traffic, holds the revision a stable window, marks it inactive and removes its last pod
 * after the grace period, so the gateways have only the activator left. One request then enters at
 * the edge; the activator holds it and reports its concurrency to the KPA, which scales to one; the
 * scheduler (with the extender) places the pod; once it is ready the activator forwards the request,
 * and Proxima's routing moves the following requests to the new pod directly.
 */
export interface ScaleToZeroOutcome {
  /** ms from the KPA's start until the last pod was deleted. */
  readonly zeroAfterMs: number;
  readonly first: { readonly ok: boolean; readonly latencyMs: number; readonly servedBy: string; readonly error: string };
  /** Where the new pod was placed and when it became ready (ms after the request was sent). */
  readonly newPod: { readonly name: string; readonly node: string; readonly readyAfterMs: number } | undefined;
  /** The extender's decision for the new pod (/debug/placements): where, why, and the demand it saw. */
  readonly placement: { readonly node: string; readonly reason: string; readonly demand: unknown; readonly scores: unknown } | undefined;
  /** Requests the activator held and proxied for the first request. */
  readonly heldByActivator: number;
  /** The short load after the pod was ready: errors, where it was served, and how many went through the activator. */
  readonly after: {
    readonly requests: number;
    readonly errors: number;
    readonly servedBy: Record<string, number>;
    readonly viaActivator: number;
  };
}

interface PlacementRecord {
  readonly pod: string;
  readonly node: string;
  readonly reason: string;
  readonly demand: unknown;
  readonly scores: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScaleToZero(sc: ClosedLoopScenario, outDir: string, progress: (m: string) => void): Promise<ScaleToZeroOutcome> {
  const gateway = sc.stepGateway;
  const base = {
    ...sc.base,
    pods: sc.base.pods.filter((p) => p.node === gateway),
    activator: { node: 'cloud-1', targetBurstCapacity: sc.kpa.targetBurstCapacity, coldStartMs: 0 },
  };
  const cluster = new EmulatedCluster({
    scenario: base,
    outDir,
    ...closedLoopClusterTiming(sc),
    progress,
  });
  try {
    await cluster.startNodes();
    await cluster.startControlPlane('proxima');
    await cluster.startGateways();
    const t0 = performance.now();
    const clockMs = () => performance.now() - t0;
    const pods = new RevisionPods(cluster, {
      template: {
        service: base.service.name,
        concurrency: sc.containerConcurrency,
        serviceTimeMs: base.pods[0]!.serviceTimeMs,
        serviceTimeCv: base.pods[0]!.serviceTimeCv,
        statWindowMs: sc.kpa.bucketMs,
      },
      revision: 'hello-00001',
      requests: sc.podRequests,
      nodes: sc.nodeCapacity,
      extender: proximaExtenderConfig(cluster.extenderUrl),
      rng: mulberry32(sc.seed),
      startDelayMs: sc.podStartMs,
      maxPods: 5,
      clockMs,
      progress,
    });
    const loop = new KpaLoop(cluster, pods, new RevisionAutoscaler(sc.kpa, sc.containerConcurrency, pods.readyCount, 0), {
      bucketMs: sc.kpa.bucketMs,
      tickMs: sc.kpa.tickMs,
      clockMs,
      withActivator: true,
      progress,
    });
    loop.start();
    try {
      const limitMs = (sc.kpa.stableWindowMs + sc.kpa.scaleToZeroGracePeriodMs) * 2 + 10_000;
      while (pods.count > 0) {
        if (clockMs() > limitMs) throw new Error(`the revision did not scale to zero within ${limitMs} ms`);
        await sleep(100);
      }
      const zeroAfterMs = Math.round(clockMs());
      progress(`scaled to zero after ${zeroAfterMs} ms; the gateways keep only the activator`);
      // Let the control plane push the activator-only assignment to every gateway.
      await sleep(2000);
      const before = await cluster.activatorStats();
      const sentAt = clockMs();
      const r = await cluster.invokeOnce(gateway, 20_000);
      const afterFirst = await cluster.activatorStats();
      const rec = pods.records.find((p) => p.createdAtMs >= sentAt);
      progress(
        `first request after zero from ${gateway}: ${r.ok ? 'ok' : `FAILED (${r.error})`} in ${r.latencyMs.toFixed(0)} ms, served on ${r.servedBy || '-'}; new pod ${rec?.name ?? '-'} on ${rec?.node ?? '-'}`,
      );
      const placements = (await fetchJson(`${cluster.adminUrl}/debug/placements`)) as { decisions?: PlacementRecord[] } | string;
      const decision =
        typeof placements === 'object' && rec ? placements.decisions?.find((d) => d.pod.endsWith(`/${rec.name}`)) : undefined;
      // The new endpoint reaches the gateways over xDS; then requests go to the pod, not the activator.
      await sleep(2000);
      const proxiedBefore = (await cluster.activatorStats()).proxied;
      const { records } = await cluster.runLoad('after-zero', new Map([[gateway, 20]]), 2000, sc.seed + 5);
      const proxiedAfter = (await cluster.activatorStats()).proxied;
      const s = summarise(records);
      return {
        zeroAfterMs,
        first: { ok: r.ok, latencyMs: Math.round(r.latencyMs), servedBy: r.servedBy, error: r.error },
        newPod:
          rec && rec.readyAtMs !== undefined
            ? { name: rec.name, node: rec.node, readyAfterMs: Math.round(rec.readyAtMs - sentAt) }
            : undefined,
        placement: decision
          ? { node: decision.node, reason: decision.reason, demand: decision.demand, scores: decision.scores }
          : undefined,
        heldByActivator: afterFirst.held - before.held,
        after: { requests: s.requests, errors: s.errors, servedBy: s.matrix[gateway] ?? {}, viaActivator: proxiedAfter - proxiedBefore },
      };
    } finally {
      loop.stop();
      await pods.close();
    }
  } finally {
    await cluster.shutdown();
  }
}
