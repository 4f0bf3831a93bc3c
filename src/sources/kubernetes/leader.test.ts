/* eslint-disable @typescript-eslint/no-explicit-any -- a fake apiserver Lease as untyped JSON */
/**
 * The standby's prompt takeover keeps client-go's safety: when the watch missed a renewal, the write
 * at the observed expiry carries the stale resourceVersion, is refused (409), and the standby stays
 * a standby. A fake LeaseClient with the apiserver's optimistic concurrency (resourceVersion
 * preconditions on replace) stands in for the API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../log.js';
import { LeaderElector, type LeaseClient } from './leader.js';

class FakeLeases implements LeaseClient {
  lease: Record<string, any> | undefined;
  private rv = 0;
  writes: string[] = [];
  conflictAtMs = 0;
  async get(): Promise<unknown> {
    if (!this.lease) throw Object.assign(new Error('not found'), { code: 404 });
    return structuredClone(this.lease);
  }
  async create(_ns: string, body: object): Promise<unknown> {
    this.lease = { ...(body as Record<string, any>), metadata: { ...(body as any).metadata, resourceVersion: String(++this.rv) } };
    return this.lease;
  }
  async replace(_ns: string, _name: string, body: object): Promise<unknown> {
    const b = body as Record<string, any>;
    if (b['metadata'].resourceVersion !== this.lease?.['metadata'].resourceVersion) {
      this.writes.push(`409 ${b['spec'].holderIdentity}`);
      this.conflictAtMs = Date.now();
      throw Object.assign(new Error('conflict'), { code: 409 });
    }
    this.writes.push(`ok ${b['spec'].holderIdentity}`);
    this.lease = { ...b, metadata: { ...b['metadata'], resourceVersion: String(++this.rv) } };
    return this.lease;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('leader: a standby writes at the observed expiry with the observed resourceVersion; a renewal the watch missed makes that write fail and it stays standby', async (t) => {
  const leases = new FakeLeases();
  const opts = {
    lease: 'ns/lead',
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 60_000,
    log: silentLogger(),
    client: leases,
  };
  const a = new LeaderElector({ ...opts, identity: 'a' });
  const b = new LeaderElector({ ...opts, identity: 'b' });
  t.after(() => Promise.all([a.stop({ release: false }), b.stop({ release: false })]));
  await a.tryAcquireOrRenew();
  assert.equal(a.isLeader(), true);
  b.start(); // one poll now, then only the watch and the expiry timer (the retry period is a minute)
  await sleep(20);
  b.observe(await leases.get());
  // `a` renews, but the watch does not deliver it to `b`.
  await sleep(300);
  await a.tryAcquireOrRenew();
  await sleep(900); // past b's observed expiry (~1000 ms after its observation)
  assert.equal(b.isLeader(), false, 'the stale write lost');
  assert.ok(leases.writes.includes('409 b'), leases.writes.join(', '));
  assert.equal((leases.lease as any).spec.holderIdentity, 'a');
  // After the refusal it read the Lease and saw the renewal then: a full lease from there, it takes over.
  for (let i = 0; i < 200 && !b.isLeader(); i++) await sleep(5);
  const ms = Date.now() - leases.conflictAtMs;
  assert.equal(b.isLeader(), true);
  assert.equal(a.isLeader(), false, 'a stopped acting at its renew deadline: never two leaders');
  assert.ok(ms >= 995 && ms <= 1300, `took over ${ms} ms after it saw the last renewal (lease 1000 ms)`);
});
