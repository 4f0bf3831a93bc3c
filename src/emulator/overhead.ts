import type { EmulatedCluster } from './cluster.js';
import type { DemoScenario } from './scenario.js';
import type { RequestRecord } from './stats.js';

/**
 * The per-request overhead the policy simulator adds to its predictions, measured on its own: idle
 * round trips through each entry node's gateway to a pod on the same node (`nearest`, a few requests
 * a second), each minus the time the request spent in the pod (queue + service, from the pod's
 * reply). What is left is the request path's own cost (client, xDS-routed channel, the node's delay
 * proxy hop, framing). Never taken from a cell a verdict then judges.
 */

export interface OverheadCalibration {
  readonly overheadMs: number;
  /** Requests behind it (served on their entry node, pod time known). */
  readonly requests: number;
  /** The same per request, median (a check on the mean). */
  readonly p50Ms: number;
  readonly description: string;
}

/** Pure: the overhead from the records of an idle local calibration run. */
export function overheadFromIdleRoundTrips(records: readonly RequestRecord[]): OverheadCalibration | undefined {
  const gaps = records
    .filter((r) => r.ok && r.servedBy === r.gateway && r.podMs !== undefined && r.podMs >= 0)
    .map((r) => r.latencyMs - r.podMs!)
    .sort((a, b) => a - b);
  if (gaps.length === 0) return undefined;
  const mean = gaps.reduce((s, x) => s + x, 0) / gaps.length;
  const p50 = gaps[Math.floor(gaps.length / 2)]!;
  const overheadMs = Math.round(Math.max(0, mean) * 100) / 100;
  return {
    overheadMs,
    requests: gaps.length,
    p50Ms: Math.round(p50 * 100) / 100,
    description: `idle round trips through the entry gateways to their local pods (nearest, 2 req/s each): ${gaps.length} requests, mean response − in-pod time ${mean.toFixed(2)} ms (median ${p50.toFixed(2)} ms)`,
  };
}

/** Run the calibration on the emulated cluster (its own control plane and gateways, then stopped). */
export async function calibrateOverhead(cluster: EmulatedCluster, s: DemoScenario, seed: number): Promise<OverheadCalibration | undefined> {
  await cluster.startControlPlane('nearest');
  await cluster.startGateways();
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const rates = new Map(s.nodes.filter((n) => n.entry).map((n) => [n.name, 2] as const));
    const { records } = await cluster.runLoad('overhead-calibration', rates, 10_000, seed * 7919 + 1);
    // The first seconds warm connections up; they are not the path's steady cost.
    return overheadFromIdleRoundTrips(records.filter((r) => r.startMs >= 2000));
  } finally {
    await cluster.stopGateways();
    await cluster.stopControlPlane();
  }
}
