import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint } from '../model/types.js';
import type { GatewayAssignment } from '../policy/types.js';
import { LoadTracker } from './load-tracker.js';
import { endpointKey, pick, type PickInput } from './picker.js';

const ep = (address: string, node: string, capacity = 2, ready = true): Endpoint => ({ address, port: 8012, node, ready, capacity });
const RTT: Record<string, number> = { 'a>a': 0.2, 'a>b': 20, 'a>c': 50 };
const rttMs = (f: string, t: string): number => RTT[`${f}>${t}`] ?? 50;

function assignment(...ls: Array<[string, number, number]>): GatewayAssignment {
  return {
    gateway: 'a',
    service: 'default/hello',
    reason: 'test',
    localities: ls.map(([node, priority, weight]) => ({ node, priority, weight })),
  };
}

/** A deterministic rng cycling through the given values. */
function seq(...xs: number[]): () => number {
  let i = 0;
  return () => xs[i++ % xs.length]!;
}

function input(over: Partial<PickInput> & { load?: LoadTracker }): PickInput {
  return {
    gateway: 'a',
    assignment: assignment(['a', 0, 1000], ['b', 1, 1], ['c', 2, 1]),
    endpoints: [ep('10.0.0.1', 'a'), ep('10.0.0.2', 'b'), ep('10.0.0.3', 'c')],
    load: new LoadTracker({ defaultCostMs: 10 }),
    rttMs,
    nowMs: 0,
    rng: seq(0.5),
    ...over,
  };
}

test('picks the ready priority-0 endpoint and lists the next priorities as fallbacks, nearest first', () => {
  const r = pick(input({}));
  assert.equal(r.kind, 'picked');
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.key, '10.0.0.1:8012');
  assert.deepEqual(
    r.fallbacks.map((c) => c.key),
    ['10.0.0.2:8012', '10.0.0.3:8012'],
  );
  assert.equal(r.saturated, false);
});

test('a saturated priority 0 falls to the next priority when queueing there costs more than the trip; freeing it brings picks back', () => {
  // Service time 100 ms: a full local pod (2 slots) means ~50 ms of waiting, more than the trip to b.
  const load = new LoadTracker({ defaultCostMs: 100 });
  const slots = [load.acquire('10.0.0.1:8012', 0), load.acquire('10.0.0.1:8012', 0)];
  let r = pick(input({ load }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.endpoint.node, 'b');
  assert.ok(!r.fallbacks.some((c) => c.key === '10.0.0.1:8012'), 'saturated endpoints are not fallbacks');
  load.release(slots[0]!, 1);
  r = pick(input({ load }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.endpoint.node, 'a');
});

test('a briefly full local endpoint beats a farther free one when the wait is shorter than the trip', () => {
  // Service time 10 ms, 2 slots, both busy: a slot frees in ~5 ms, b is 20+ ms away.
  const load = new LoadTracker({ defaultCostMs: 10 });
  load.acquire('10.0.0.1:8012', 0);
  load.acquire('10.0.0.1:8012', 0);
  const r = pick(input({ load }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.key, '10.0.0.1:8012');
  assert.equal(r.saturated, false, 'not saturated: a free endpoint exists, queueing is a choice');
  assert.equal(r.fallbacks[0]?.endpoint.node, 'b');
});

test('everything saturated: picked anyway on the cheapest score and flagged saturated', () => {
  const load = new LoadTracker();
  for (const k of ['10.0.0.1:8012', '10.0.0.2:8012', '10.0.0.3:8012']) for (let i = 0; i < 2; i++) load.acquire(k, 0);
  const r = pick(input({ load }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.saturated, true);
  assert.equal(r.pick.key, '10.0.0.1:8012');
  assert.deepEqual(r.fallbacks, []);
});

test('not-ready, pending and unassigned-node endpoints are never candidates', () => {
  const r = pick(
    input({
      assignment: assignment(['a', 0, 1000], ['b', 1, 1]),
      endpoints: [ep('10.0.0.1', 'a', 2, false), { ...ep('10.0.0.4', 'a'), pending: true }, ep('10.0.0.3', 'c'), ep('10.0.0.2', 'b')],
    }),
  );
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.key, '10.0.0.2:8012');
  assert.deepEqual(r.fallbacks, []);
});

test('no assignment or no ready endpoint: no_candidate', () => {
  assert.equal(pick(input({ assignment: undefined })).kind, 'no_candidate');
  assert.equal(pick(input({ endpoints: [ep('10.0.0.1', 'a', 2, false)] })).kind, 'no_candidate');
});

test('P2C: of the two sampled endpoints the lower score (peak-EWMA x (in-flight+1)) wins', () => {
  const load = new LoadTracker({ defaultCostMs: 10 });
  load.observe('10.0.0.1:8012', 100, 0); // slow
  load.observe('10.0.0.2:8012', 5, 0);
  const eps = [ep('10.0.0.1', 'a', 10), ep('10.0.0.2', 'a', 10)];
  for (const rng of [seq(0.1, 0.1), seq(0.9, 0.1)]) {
    const r = pick(input({ load, endpoints: eps, assignment: assignment(['a', 0, 1000]), rng }));
    assert.ok(r.kind === 'picked');
    assert.equal(r.pick.key, '10.0.0.2:8012');
    assert.deepEqual(
      r.fallbacks.map((c) => c.key),
      ['10.0.0.1:8012'],
    );
  }
  // In-flight counts: 5 ms x 30 pending beats 100 ms x 1.
  for (let i = 0; i < 29; i++) load.acquire('10.0.0.2:8012', 0);
  const r = pick(input({ load, endpoints: [ep('10.0.0.1', 'a', 100), ep('10.0.0.2', 'a', 100)], assignment: assignment(['a', 0, 1000]) }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.key, '10.0.0.1:8012');
});

test('RTT is part of the score: equal load, the nearer locality in the same priority wins', () => {
  const r = pick(
    input({
      assignment: assignment(['a', 0, 500], ['c', 0, 500]),
      endpoints: [ep('10.0.0.1', 'a'), ep('10.0.0.3', 'c')],
      rng: seq(0.9, 0.2),
    }),
  );
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.endpoint.node, 'a');
});

test('sampling follows locality weights (weight / endpoints in the locality)', () => {
  // Three endpoints: node a weight 900 with one endpoint, node b weight 100 with two. With equal
  // scores P2C keeps the first draw, so first-draw frequencies show the sampling weights.
  const load = new LoadTracker({ defaultCostMs: 0 });
  let x = 0.123;
  const rng = (): number => (x = (x * 9301 + 0.49297) % 1);
  const counts = new Map<string, number>();
  const zero = (): number => 0;
  for (let i = 0; i < 20_000; i++) {
    const r = pick({
      ...input({ load, rng }),
      rttMs: zero,
      assignment: assignment(['a', 0, 900], ['b', 0, 100]),
      endpoints: [ep('10.0.0.1', 'a'), ep('10.0.0.2', 'b'), ep('10.0.0.5', 'b')],
    });
    assert.ok(r.kind === 'picked');
    counts.set(r.pick.endpoint.node, (counts.get(r.pick.endpoint.node) ?? 0) + 1);
  }
  const shareA = (counts.get('a') ?? 0) / 20_000;
  assert.ok(shareA > 0.85 && shareA < 0.95, `share of a = ${shareA}`);
});

test('endpointKey brackets IPv6', () => {
  assert.equal(endpointKey({ address: 'fd00::1', port: 80 }), '[fd00::1]:80');
  assert.equal(endpointKey({ address: '10.1.2.3', port: 80 }), '10.1.2.3:80');
});
