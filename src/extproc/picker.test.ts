import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint } from '../model/types.js';
import type { GatewayAssignment } from '../policy/types.js';
import { LoadTracker } from './load-tracker.js';
import { mulberry32 } from '../util/rng.js';
import { edsDraw, endpointKey, LOCALITY_PREMIUM, pick, type PickInput } from './picker.js';

const ep = (address: string, node: string, capacity = 2, ready = true): Endpoint => ({ address, port: 8012, node, ready, capacity });
const RTT: Record<string, number> = { 'a>a': 0.2, 'a>b': 20, 'a>c': 50 };
const rttMs = (f: string, t: string): number => RTT[`${f}>${t}`] ?? 50;

function assignment(...ls: Array<[string, number, number]>): GatewayAssignment {
  return {
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

function input(over: Partial<PickInput> & { load?: LoadTracker; prior?: number }): PickInput {
  const prior = over.prior ?? 10;
  return {
    gateway: 'a',
    assignment: assignment(['a', 0, 1000], ['b', 1, 1], ['c', 2, 1]),
    endpoints: [ep('10.0.0.1', 'a'), ep('10.0.0.2', 'b'), ep('10.0.0.3', 'c')],
    load: new LoadTracker(),
    rttMs,
    priorMs: () => prior,
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
  assert.equal(r.rule, 'fastest');
  assert.equal(r.leftLocalWithRoom, undefined);
  assert.deepEqual(
    r.fallbacks.map((c) => c.key),
    ['10.0.0.2:8012', '10.0.0.3:8012'],
  );
  assert.equal(r.saturated, false);
});

test('a saturated priority 0 falls to the next priority when queueing there costs more than the trip; freeing it brings picks back', () => {
  // Service time 100 ms, 2 slots, 3 requests there: one more waits ~100 ms for a slot (200 ms in all),
  // more than b's 20 ms trip + 100 ms, even with the locality premium (1 × 19.8 ms × (1 − 0.075)).
  const load = new LoadTracker();
  const slots = [0, 1, 2].map(() => load.acquire('10.0.0.1:8012', 0));
  let r = pick(input({ load, prior: 100 }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.endpoint.node, 'b');
  assert.equal(r.leftLocalWithRoom, undefined, 'the local pod had no free slot');
  assert.ok(!r.fallbacks.some((c) => c.key === '10.0.0.1:8012'), 'saturated endpoints are not fallbacks');
  load.release(slots[0]!, 1);
  load.release(slots[1]!, 1);
  r = pick(input({ load, prior: 100 }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.endpoint.node, 'a');
});

test('at low load the nearest pods keep a short queue: leaving them costs the locality premium, LOCALITY_PREMIUM × ΔRTT × (1 − their utilisation)', () => {
  // Service 20 ms, 2 slots, 4 requests there: one more waits for 3 slots to free, 20 × 2.5 = 50 ms,
  // against b's 20 ms trip + 20 ms. The wait it passes on grows with the pick rate, the premium fades.
  const at = (recentPicks: number) => {
    const l = new LoadTracker();
    for (let i = 0; i < recentPicks; i++) l.release(l.acquire('10.0.0.1:8012', 0), 0);
    for (let i = 0; i < 4; i++) l.acquire('10.0.0.1:8012', 0);
    const r = pick(input({ load: l, prior: 20, assignment: assignment(['a', 0, 1000], ['b', 1, 1]) }));
    assert.ok(r.kind === 'picked');
    return r;
  };
  // 20 picks in the last τ (2 s) + the 4 in flight: 0.012 per ms, utilisation 0.12: premium 17.4 ms,
  // b charged 57.4 ms; the entry pod 50.2 + 30 × 0.012 × 10 ÷ 0.88 = 54.3 ms: a stays.
  let r = at(20);
  assert.equal(r.pick.endpoint.node, 'a');
  assert.ok(Math.abs(r.pick.choiceMs - (50.2 + (30 * 0.012 * 10) / (1 - 0.12))) < 1e-9, String(r.pick.choiceMs));
  // Without the premium it would not: 54.3 ms is more than 25 % above b's 40.
  assert.ok(r.pick.choiceMs > 1.25 * 40);
  // 196 picks: 0.1 per ms, utilisation 1: no premium, and the wait passed on (capped at ρ 0.5) is
  // 30 × 0.1 × 10 ÷ 0.5 = 60 ms: b.
  r = at(196);
  assert.equal(r.pick.endpoint.node, 'b');
});

test('a briefly full local endpoint beats a farther free one when the wait is shorter than the trip', () => {
  // Service time 10 ms, 2 slots, both busy: a slot frees in ~5 ms, b is 20+ ms away.
  const load = new LoadTracker();
  load.acquire('10.0.0.1:8012', 0);
  load.acquire('10.0.0.1:8012', 0);
  const r = pick(input({ load }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.key, '10.0.0.1:8012');
  assert.equal(r.rule, 'queued');
  assert.equal(r.saturated, false, 'not saturated: a free endpoint exists, queueing is a choice');
  assert.equal(r.fallbacks[0]?.endpoint.node, 'b');
});

test('everything saturated: picked anyway where it is expected to answer first, flagged saturated', () => {
  const load = new LoadTracker();
  for (const k of ['10.0.0.1:8012', '10.0.0.2:8012', '10.0.0.3:8012']) for (let i = 0; i < 2; i++) load.acquire(k, 0);
  const r = pick(input({ load }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.saturated, true);
  assert.equal(r.rule, 'saturated');
  assert.equal(r.pick.key, '10.0.0.1:8012');
  assert.deepEqual(r.fallbacks, []);
});

test('everything saturated: two nodes drawn by the EDS weights of the lowest priority, then the pod of those with the shortest queue', () => {
  // Priority 0: a (weight 250, one pod) and c (weight 750, two pods); b is failover (priority 1).
  // Every pod full: a 4 requests, c's pods 3 and 2, b 2. A draw below 0.25 lands on a, above on c.
  const load = new LoadTracker();
  for (let i = 0; i < 4; i++) load.acquire('10.0.0.1:8012', 0);
  for (let i = 0; i < 2; i++) load.acquire('10.0.0.2:8012', 0);
  for (let i = 0; i < 3; i++) load.acquire('10.0.0.3:8012', 0);
  for (let i = 0; i < 2; i++) load.acquire('10.0.0.4:8012', 0);
  const at = (...draws: number[]) => {
    const r = pick(
      input({
        load,
        prior: 100,
        rng: seq(...draws),
        assignment: assignment(['a', 0, 250], ['c', 0, 750], ['b', 1, 1]),
        endpoints: [ep('10.0.0.1', 'a'), ep('10.0.0.2', 'b'), ep('10.0.0.3', 'c'), ep('10.0.0.4', 'c')],
      }),
    );
    assert.ok(r.kind === 'picked');
    assert.equal(r.rule, 'saturated');
    assert.deepEqual(r.fallbacks, []);
    return r.pick.key;
  };
  // a drawn twice: its pod, although c's pods have shorter queues.
  assert.equal(at(0.1, 0.2), '10.0.0.1:8012');
  // a and c drawn: c's pod with 2 requests, the shortest queue of the two nodes.
  assert.equal(at(0.1, 0.9), '10.0.0.4:8012');
  assert.equal(at(0.9, 0.1), '10.0.0.4:8012');
  // b (priority 1, 2 requests) is never drawn while priority 0 has candidates.
  for (const x of [0, 0.3, 0.6, 0.99]) for (const y of [0, 0.3, 0.6, 0.99]) assert.notEqual(at(x, y), '10.0.0.2:8012');
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

test('regression (5-user demo): a local pod with a free slot is kept although it has a request in flight and remote pods went idle', () => {
  // Same priority for all localities, as proxima assigns under some load. The local pod (2 slots)
  // has one request in flight; the remote pods have not been used for a minute. The old score
  // (RTT + peak-EWMA x (in-flight + 1), the idle ones decayed to ~0) sent this request to b.
  const load = new LoadTracker();
  load.observe('10.0.0.1:8012', 20, 0);
  load.observe('10.0.0.2:8012', 20, 0);
  load.acquire('10.0.0.1:8012', 60_000);
  for (const r0 of [0.01, 0.5, 0.99]) {
    const r = pick(input({ load, prior: 20, nowMs: 60_000, assignment: assignment(['a', 0, 600], ['b', 0, 400]), rng: seq(r0) }));
    assert.ok(r.kind === 'picked');
    assert.equal(r.pick.endpoint.node, 'a', `rng ${r0}`);
  }
});

test('a slow local pod with room is left for a faster one at a later priority, and the pick says which local pod it left and why', () => {
  const load = new LoadTracker();
  load.observe('10.0.0.1:8012', 100, 0); // 5x the prior
  load.observe('10.0.0.2:8012', 20, 0);
  const r = pick(input({ load, prior: 20 }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.endpoint.node, 'b');
  assert.equal(r.leftLocalWithRoom?.key, '10.0.0.1:8012');
  assert.ok(r.leftLocalWithRoom!.expectedMs > r.pick.expectedMs);
  assert.ok(r.leftLocalWithRoom!.choiceMs > r.pick.choiceMs);
  // No picks yet, so the local pod counts idle: leaving it cost the whole premium, 1 × (20 − 0.2) ms.
  assert.ok(Math.abs(r.premiumMs - LOCALITY_PREMIUM * 19.8) < 1e-9, String(r.premiumMs));
  assert.ok(r.leftLocalWithRoom!.choiceMs > r.pick.choiceMs + r.premiumMs);
  // With room to spare: the slow pod is above the tie band around b's charge by far more than a
  // noisy estimate moves it (at LOCALITY_PREMIUM 2 the margin would be under 1 ms).
  const margin = r.leftLocalWithRoom!.choiceMs - 1.25 * (r.pick.choiceMs + r.premiumMs);
  assert.ok(margin > 10, `margin ${margin} ms`);
});

test('expected time counts the queue: 5 ms x (1 + 61/10 waiting) = 35.5 ms loses to 25 ms with a free slot', () => {
  const load = new LoadTracker();
  load.observe('10.0.0.1:8012', 25, 0);
  load.observe('10.0.0.2:8012', 5, 0);
  const eps = [ep('10.0.0.1', 'a', 10), ep('10.0.0.2', 'a', 10)];
  let r = pick(input({ load, endpoints: eps, assignment: assignment(['a', 0, 1000]) }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.key, '10.0.0.2:8012');
  for (let i = 0; i < 70; i++) load.acquire('10.0.0.2:8012', 0);
  r = pick(input({ load, endpoints: eps, assignment: assignment(['a', 0, 1000]) }));
  assert.ok(r.kind === 'picked');
  assert.equal(r.pick.key, '10.0.0.1:8012');
});

test('RTT is part of the expected time: equal load, the nearer locality in the same priority wins', () => {
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

test('ties are drawn by locality weight (weight / endpoints in the locality)', () => {
  // Node a weight 900 with one endpoint, node b weight 100 with two; same RTT and cost everywhere.
  let x = 0.123;
  const rng = (): number => (x = (x * 9301 + 0.49297) % 1);
  const counts = new Map<string, number>();
  const zero = (): number => 0;
  for (let i = 0; i < 20_000; i++) {
    const r = pick({
      ...input({ rng }),
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

test('a queue at the entry node is charged the delay it passes on, which grows with the pod’s pick rate: brief queues stay local at low load, not at high load', () => {
  const at = (recentPicks: number) => {
    const l = new LoadTracker();
    l.observe('10.0.0.1:8012', 24, 0);
    l.observe('10.0.0.2:8012', 20, 0);
    // Requests sent to the entry pod just now and already answered: its pick rate, nothing in flight.
    for (let i = 0; i < recentPicks; i++) l.release(l.acquire('10.0.0.1:8012', 0), 0);
    // Both slots busy now: one more request waits for one (24 ms x 1.5 = 36 ms expected).
    l.acquire('10.0.0.1:8012', 0);
    l.acquire('10.0.0.1:8012', 0);
    const r = pick(input({ load: l, prior: 20, assignment: assignment(['a', 0, 1000], ['b', 1, 1]) }));
    assert.ok(r.kind === 'picked');
    return r;
  };
  // 2 picks in the last τ: 0.001 per ms; the 12 ms wait holds up 0.012 requests by 12 ms each
  // (÷ (1 − 0.012)): 0.15 ms passed on, 36.35 ms charged, below b's 20 ms trip + 20 ms.
  let r = at(0);
  assert.equal(r.pick.endpoint.node, 'a');
  assert.equal(r.rule, 'queued');
  assert.ok(Math.abs(r.pick.expectedMs - (0.2 + 36)) < 1e-9, String(r.pick.expectedMs));
  assert.ok(Math.abs(r.pick.choiceMs - (0.2 + 36 + (12 * 0.001 * 12) / (1 - 0.012))) < 1e-9, String(r.pick.choiceMs));
  // 202 picks in the last τ (2 s): 0.101 per ms, utilisation 1.2 (no locality premium), capped at 0.5
  // in the wait passed on: 12 x 0.101 x 12 ÷ 0.5 = 29.1 ms passed on, 65.3 ms charged: more than 25 %
  // above b's 40, so b, though the request alone would wait less at a (36 ms) than it travels.
  r = at(200);
  assert.equal(r.pick.endpoint.node, 'b');
  assert.equal(r.leftLocalWithRoom, undefined, 'the entry pod had no free slot');
});

test('a slot held longer than the request spends at the pod (gateway work, late stream ends) counts only for its time at the pod, discounted at most by half', () => {
  const load = new LoadTracker();
  // A request to the local pod (20 ms, RTT 0.2) held its slot 30 ms longer than expected.
  load.release(load.acquire('10.0.0.1:8012', 0, 0.2, 1, 1, 20), 50.2, true);
  const first = pick(input({ load, prior: 20, nowMs: 100 }));
  assert.ok(first.kind === 'picked');
  const c = first.pick;
  // 30 ms extra, but the discount is at most half: the hold counts as expected + min(30, expected).
  assert.ok(Math.abs(c.atPodShare - (c.expectedMs - c.rttMs) / (c.expectedMs + Math.min(30, c.expectedMs))) < 1e-9, JSON.stringify(c));
  assert.ok(c.atPodShare < 0.5);
  // Two picks in flight count about 1 at the pod: a third still finds a free slot.
  for (let i = 0; i < 2; i++) {
    const r = pick(input({ load, prior: 20, nowMs: 100 }));
    assert.ok(r.kind === 'picked');
    load.acquire(r.pick.key, 100, r.pick.rttMs, r.pick.queueFactor, r.pick.atPodShare, r.pick.costMs);
  }
  const third = pick(input({ load, prior: 20, nowMs: 100 }));
  assert.ok(third.kind === 'picked');
  assert.equal(third.pick.endpoint.node, 'a');
  assert.equal(third.rule, 'fastest');
  assert.equal(third.pick.full, false);
});

test('endpointKey brackets IPv6', () => {
  assert.equal(endpointKey({ address: 'fd00::1', port: 80 }), '[fd00::1]:80');
  assert.equal(endpointKey({ address: '10.1.2.3', port: 80 }), '10.1.2.3:80');
});

test('everything saturated: a node of weight w gets between w² and 1 − (1 − w)² of the picks, whatever the counts say', () => {
  // a (weight 300) and c (weight 700), every pod full. When a always has the shorter queue it wins
  // whenever it is drawn (1 − 0.7² = 0.51); when it always has the longer one, only when drawn twice (0.3² = 0.09).
  const share = (aRequests: number, cRequests: number) => {
    const load = new LoadTracker();
    for (let i = 0; i < aRequests; i++) load.acquire('10.0.0.1:8012', 0);
    for (let i = 0; i < cRequests; i++) load.acquire('10.0.0.3:8012', 0);
    const rng = mulberry32(7);
    let a = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const r = pick(
        input({
          load,
          prior: 100,
          rng,
          assignment: assignment(['a', 0, 300], ['c', 0, 700]),
          endpoints: [ep('10.0.0.1', 'a'), ep('10.0.0.3', 'c')],
        }),
      );
      assert.ok(r.kind === 'picked' && r.rule === 'saturated');
      if (r.pick.endpoint.node === 'a') a++;
    }
    return a / n;
  };
  assert.ok(Math.abs(share(3, 6) - 0.51) < 0.015, `a shorter: ${share(3, 6)}`);
  assert.ok(Math.abs(share(6, 3) - 0.09) < 0.01, `a longer: ${share(6, 3)}`);
});

test('edsDraw: the lowest priority with a ready endpoint, a locality by weight, an endpoint of it uniformly', () => {
  const endpoints = [ep('10.0.0.1', 'a', 2, false), ep('10.0.0.2', 'b'), ep('10.0.0.3', 'c'), ep('10.0.0.4', 'c')];
  // Node a (priority 0) has no ready endpoint: priority 1 decides, b:c weighted 1:3.
  const a = assignment(['a', 0, 1000], ['b', 1, 250], ['c', 1, 750], ['d', 2, 1000]);
  const counts = new Map<string, number>();
  const rng = mulberry32(7);
  for (let i = 0; i < 4000; i++) {
    const e = edsDraw(a, endpoints, rng)!;
    counts.set(e.address, (counts.get(e.address) ?? 0) + 1);
  }
  assert.equal(counts.get('10.0.0.1'), undefined, 'not ready');
  const share = (k: string) => (counts.get(k) ?? 0) / 4000;
  assert.ok(Math.abs(share('10.0.0.2') - 0.25) < 0.03, `b ${share('10.0.0.2')}`);
  assert.ok(Math.abs(share('10.0.0.3') - 0.375) < 0.03, `c1 ${share('10.0.0.3')}`);
  assert.ok(Math.abs(share('10.0.0.4') - 0.375) < 0.03, `c2 ${share('10.0.0.4')}`);
  assert.equal(edsDraw(assignment(['d', 0, 1000]), endpoints, rng), undefined, 'no ready endpoint in the assignment');
  assert.equal(edsDraw(undefined, endpoints, rng), undefined);
});
