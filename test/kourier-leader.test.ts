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
import { mulberry32 } from '../src/util/rng.js';

const LEASE_MS = 2000; // Lease.spec.leaseDurationSeconds holds whole seconds
const RETRY_MS = 100;
const KILLS = 5;
const SEED = 16;
/** A watch delivery plus one GET and one PUT on the stand-in, with room for a loaded machine. */
const ACQUIRE_MS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** When the stand-in next receives a Lease PUT (a renewal) from `token`. */
async function nextLeaseWrite(api: ApiServerStandIn, token: string): Promise<number> {
  const from = api.requests.length;
  for (;;) {
    const hit = api.requests.slice(from).find((r) => r.method === 'PUT' && r.path.includes('/leases/') && r.token === token);
    if (hit) return hit.atMs;
    await sleep(1);
  }
}

/** Poll every millisecond (takeover times are reported to the millisecond). */
async function pollFast(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition still false');
    await sleep(1);
  }
}
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

test('leader election: only the Lease holder writes status and finalizers; killed at random phases of the renew cycle, a standby takes over within the lease duration each time; Ready never flaps', async (t) => {
  const { api, url } = await startStandIn();
  t.after(() => api.stop());
  const r1 = replica(url, 'replica-1', true);
  const r2 = replica(url, 'replica-2', true);
  const extra: KubernetesSource[] = [];
  t.after(() => Promise.all([r1.stop(), r2.stop(), ...extra.map((r) => r.stop())]).then(() => undefined));
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

  // Kill the leader (no Lease release, as a crash) at random phases of its renew cycle, KILLS times;
  // after each takeover a fresh replica joins as the next standby.
  const rand = mulberry32(SEED);
  let [current, standby, currentId, standbyId] = [leader, follower, leaderId, followerId];
  const takeovers: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const renewedAt = await nextLeaseWrite(api, currentId);
    const phaseMs = Math.floor(rand() * RETRY_MS);
    await sleep(renewedAt + phaseMs - Date.now());
    assert.equal(ingressWrites(api).get(standbyId) ?? 0, 0, `standby ${standbyId} never wrote before its takeover`);
    const killedAt = Date.now();
    await current.stop({ releaseLease: false });
    await pollFast(() => standby.isLeader(), LEASE_MS * 3);
    const takeoverMs = Date.now() - killedAt;
    takeovers.push(takeoverMs);
    console.log(
      `# kill ${k + 1}: ${Date.now() - renewedAt - takeoverMs} ms after a renewal, takeover after ${takeoverMs} ms (lease ${LEASE_MS} ms, retry period ${RETRY_MS} ms)`,
    );
    assert.equal(api.get('Lease', 'proxima-controller', 'knative-serving')!['spec']['holderIdentity'], standbyId);
    assert.equal(api.get('Lease', 'proxima-controller', 'knative-serving')!['spec']['leaseTransitions'], k + 1);
    const fresh = replica(url, `replica-${k + 3}`, true);
    extra.push(fresh);
    await fresh.start();
    [current, standby, currentId, standbyId] = [standby, fresh, standbyId, `replica-${k + 3}`];
  }
  // The standby counts the full lease from when it saw the last renewal (client-go's safety), so a
  // takeover can come before the lease only by the time the leader lived after its last renewal.
  for (const ms of takeovers) assert.ok(ms >= LEASE_MS - RETRY_MS - 20, `not before the lease could have expired (${ms} ms)`);
  // It saw that renewal over the watch and tried at the expiry: at most the lease plus the watch
  // delivery and one GET + PUT (ACQUIRE_MS), never client-go's extra retry periods.
  for (const ms of takeovers) assert.ok(ms <= LEASE_MS + ACQUIRE_MS, `within the lease duration plus one acquisition (${ms} ms)`);
  const follower2 = current;
  const followerId2 = currentId;

  // The new leader writes the next change.
  const ing2 = api.get('Ingress', 'hello', 'default')!;
  ing2['spec']['rules'][1]['hosts'] = ['hello.default.example.net'];
  api.apply(ing2);
  await eventually(() => api.get('Ingress', 'hello', 'default')!['status'].observedGeneration === 3);
  assert.ok((ingressWrites(api).get(followerId2) ?? 0) >= 1, 'the new leader wrote');
  void follower2;

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
