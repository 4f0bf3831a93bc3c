/**
 * Scale from zero with Proxima routing around the activator: every pod goes away (the revision
 * scaled to zero, so the gateways have only the activator left), one request enters at an edge
 * gateway and is held by the activator; after the cold start the pods come back and the held
 * request is served. Then a short load shows the traffic back on the pods.
 */
import type { EmulatedCluster } from './cluster.js';
import { ratePerGateway, type DemoScenario } from './scenario.js';
import { summarise } from './stats.js';

export interface ScaleFromZeroResult {
  readonly setup: string;
  readonly gateway: string;
  readonly coldStartMs: number;
  /** The first request after scale-from-zero. */
  readonly first: { readonly ok: boolean; readonly latencyMs: number; readonly servedBy: string; readonly error: string };
  /** Requests the activator held while no pod was ready (≥ 1: the first request went through it). */
  readonly heldByActivator: number;
  /** The lowest load level for a few seconds after the pods are back. */
  readonly after: { readonly requests: number; readonly errors: number; readonly localShare: number; readonly meanMs: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScaleFromZero(
  cluster: EmulatedCluster,
  s: DemoScenario,
  setup: string,
  progress: (m: string) => void,
): Promise<ScaleFromZeroResult | undefined> {
  const act = s.activator;
  const gateway = s.nodes.find((n) => n.entry)?.name;
  if (!act || !gateway) return undefined;
  cluster.setActivatorChoice('bypass');
  await cluster.startControlPlane(setup);
  await cluster.startGateways();
  progress(`scale from zero (${setup}): every pod stops; the gateways keep only the activator`);
  for (const n of s.nodes) await cluster.podsAction(n.name, 'stop');
  for (const n of s.nodes) await cluster.setNodePodsReady(n.name, false);
  // The control plane reads the file on change and pushes; leave it time to reach every gateway.
  await sleep(3000);
  const heldBefore = (await cluster.activatorStats()).held;
  const first = cluster.invokeOnce(gateway, 10_000);
  await sleep(act.coldStartMs);
  for (const n of s.nodes) await cluster.podsAction(n.name, 'start');
  for (const n of s.nodes) await cluster.setNodePodsReady(n.name, true);
  const r = await first;
  const heldByActivator = (await cluster.activatorStats()).held - heldBefore;
  progress(
    `scale from zero: first request from ${gateway} ${r.ok ? 'succeeded' : `FAILED (${r.error})`} after ${r.latencyMs.toFixed(0)} ms, served on ${r.servedBy || '-'}; ${heldByActivator} held by the activator`,
  );
  await sleep(3000);
  const users = Math.min(...s.users);
  const rates = new Map([[gateway, ratePerGateway(s, users).get(gateway) ?? s.ratePerUser]]);
  const { records } = await cluster.runLoad(`scale-from-zero-after`, rates, 3000, s.seed + 77);
  const after = summarise(records);
  await cluster.stopGateways();
  await cluster.stopControlPlane();
  return {
    setup,
    gateway,
    coldStartMs: act.coldStartMs,
    first: { ok: r.ok, latencyMs: Math.round(r.latencyMs * 10) / 10, servedBy: r.servedBy, error: r.error },
    heldByActivator,
    after: { requests: after.requests, errors: after.errors, localShare: after.localShare, meanMs: after.meanMs },
  };
}
