/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * Two Proxima replicas against one kube-apiserver STAND-IN (no kube-apiserver here; the stand-in
 * speaks the list/watch/get/create/update/merge-patch wire format the real @kubernetes/client-node
 * clients use, Leases included). Each replica has its own bearer token, so every write the
 * stand-in receives is attributed to the replica that made it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubernetesSource } from '../src/sources/kubernetes/source.js';
import { eventually, kubeConfigFor, newSource, startStandIn } from './kube/harness.js';
import type { ApiServerStandIn } from './kube/apiserver-standin.js';
import type { LeaderElectionOptions } from '../src/sources/kubernetes/kourier-options.js';

const LEASE_MS = 2000; // Lease.spec.leaseDurationSeconds holds whole seconds
const RETRY_MS = 100;
const election = (identity: string): LeaderElectionOptions => ({
  lease: 'knative-serving/proxima-controller',
  identity,
  leaseDurationMs: LEASE_MS,
  renewDeadlineMs: 1000,
  retryPeriodMs: RETRY_MS,
});

/** KIngress writes (status and finalizer patches) per replica token. */
function ingressWrites(api: ApiServerStandIn): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of api.requests)
    if (r.method === 'PATCH' && r.path.includes('/ingresses/')) out.set(r.token ?? '', (out.get(r.token ?? '') ?? 0) + 1);
  return out;
}

/** Ready of every status patch body, in order. */
function readySequence(api: ApiServerStandIn): string[] {
  return api.requests
    .filter((r) => r.method === 'PATCH' && r.path.endsWith('/status'))
    .map((r) => (r.body as any).status.conditions.find((c: any) => c.type === 'Ready').status as string);
}

function replica(url: string, id: string, leader: boolean, programmed = true): KubernetesSource {
  return newSource(url, {
    kubeConfig: kubeConfigFor(url, id),
    isProgrammed: () => programmed,
    ...(leader ? { kourier: { leaderElection: election(id) } } : {}),
  }).source;
}

test('leader election: only the Lease holder writes status and finalizers; killed, the other takes over within the lease duration; Ready never flaps', async (t) => {
  const { api, url } = await startStandIn();
  t.after(() => api.stop());
  const r1 = replica(url, 'replica-1', true);
  const r2 = replica(url, 'replica-2', true);
  t.after(() => Promise.all([r1.stop(), r2.stop()]).then(() => undefined));
  await Promise.all([r1.start(), r2.start()]);
  await eventually(() => r1.isLeader() !== r2.isLeader(), 3000);
  const [leader, follower, leaderId, followerId] = r1.isLeader() ? [r1, r2, 'replica-1', 'replica-2'] : [r2, r1, 'replica-2', 'replica-1'];
  const lease = api.get('Lease', 'proxima-controller', 'knative-serving')!;
  assert.equal(lease['spec']['holderIdentity'], leaderId);
  assert.equal(lease['spec']['leaseDurationSeconds'], 2);
  assert.match(lease['spec']['renewTime'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime: six fractional digits');
  await eventually(
    () => api.get('Ingress', 'hello', 'default')!['status']?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True',
  );

  // Both replicas refresh repeatedly; a spec change needs a new status. Only the leader writes.
  const ing = api.get('Ingress', 'hello', 'default')!;
  ing['spec']['rules'][1]['hosts'] = ['hello.default.example.org'];
  api.apply(ing);
  await eventually(() => api.get('Ingress', 'hello', 'default')!['status'].observedGeneration === 2);
  for (let i = 0; i < 5; i++) await Promise.all([leader.refreshStatuses(), follower.refreshStatuses()]);
  const writes = ingressWrites(api);
  assert.ok((writes.get(leaderId) ?? 0) >= 2, `the leader wrote: ${JSON.stringify([...writes])}`);
  assert.equal(writes.get(followerId) ?? 0, 0, 'the follower never wrote');
  assert.deepEqual(
    api.get('Ingress', 'hello', 'default')!['metadata']['finalizers'],
    ['ingresses.networking.internal.knative.dev'],
    'the leader added Kourier’s finalizer',
  );

  // Kill the leader (no Lease release, as a crash): the follower takes over once the lease expires.
  const killedAt = Date.now();
  await leader.stop({ releaseLease: false });
  await eventually(() => follower.isLeader(), LEASE_MS * 3);
  const takeoverMs = Date.now() - killedAt;
  console.log(`# leader takeover after ${takeoverMs} ms (lease ${LEASE_MS} ms, retry period ${RETRY_MS} ms)`);
  assert.ok(takeoverMs >= LEASE_MS - 2 * RETRY_MS, `not before the lease expired (${takeoverMs} ms)`);
  // The follower last saw a renewal at most one retry period before the kill, and looks again every
  // retry period: the lease duration plus a few periods of polling and a loaded machine's event loop.
  assert.ok(takeoverMs <= LEASE_MS + 5 * RETRY_MS, `within the lease duration plus the polling period (${takeoverMs} ms)`);
  assert.equal(api.get('Lease', 'proxima-controller', 'knative-serving')!['spec']['holderIdentity'], followerId);
  assert.equal(api.get('Lease', 'proxima-controller', 'knative-serving')!['spec']['leaseTransitions'], 1);

  // The new leader writes the next change.
  const ing2 = api.get('Ingress', 'hello', 'default')!;
  ing2['spec']['rules'][1]['hosts'] = ['hello.default.example.net'];
  api.apply(ing2);
  await eventually(() => api.get('Ingress', 'hello', 'default')!['status'].observedGeneration === 3);
  assert.ok((ingressWrites(api).get(followerId) ?? 0) >= 1, 'the new leader wrote');

  // Ready never flapped: once True, every later status write says True.
  const seq = readySequence(api);
  const firstTrue = seq.indexOf('True');
  assert.ok(firstTrue >= 0);
  assert.deepEqual(
    seq.slice(firstTrue).filter((s) => s !== 'True'),
    [],
    `status writes: ${seq.join(',')}`,
  );
});

test('leader election: without a Lease, two replicas both write (the flapping the Lease prevents)', async (t) => {
  const { api, url } = await startStandIn();
  t.after(() => api.stop());
  // The replicas see the gateways' ACKs at different moments: one says programmed, the other not yet.
  const r1 = replica(url, 'replica-1', false, true);
  const r2 = replica(url, 'replica-2', false, false);
  t.after(() => Promise.all([r1.stop(), r2.stop()]).then(() => undefined));
  await Promise.all([r1.start(), r2.start()]);
  for (let i = 0; i < 6; i++) {
    await r1.refreshStatuses();
    await r2.refreshStatuses();
    await new Promise((r) => setTimeout(r, 30));
  }
  const w = ingressWrites(api);
  assert.ok((w.get('replica-1') ?? 0) > 0 && (w.get('replica-2') ?? 0) > 0, JSON.stringify([...w]));
  const seq = readySequence(api);
  assert.ok(seq.includes('True') && seq.lastIndexOf('Unknown') > seq.indexOf('True'), `Ready flaps: ${seq.join(',')}`);
});

test('leader election: a leader that stops cleanly releases the Lease and the other takes over at once', async (t) => {
  const { api, url } = await startStandIn();
  t.after(() => api.stop());
  const r1 = replica(url, 'replica-1', true);
  const r2 = replica(url, 'replica-2', true);
  t.after(() => Promise.all([r1.stop(), r2.stop()]).then(() => undefined));
  await Promise.all([r1.start(), r2.start()]);
  await eventually(() => r1.isLeader() !== r2.isLeader(), 3000);
  const [leader, follower] = r1.isLeader() ? [r1, r2] : [r2, r1];
  const stoppedAt = Date.now();
  await leader.stop(); // releases: holderIdentity "" and leaseDurationSeconds 1, as client-go's ReleaseOnCancel
  await eventually(() => follower.isLeader(), LEASE_MS);
  const ms = Date.now() - stoppedAt;
  assert.ok(ms < LEASE_MS / 2, `taken over in ${ms} ms, well before the lease would have expired`);
});
