import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANSWERED_WITHIN_MS, LITTLE_BOUND, LoadTracker, RATE_TAU_MS } from './load-tracker.js';

test('acquire/release counts in-flight and a slot is released only once', () => {
  const t = new LoadTracker();
  const a = t.acquire('10.0.0.1:80', 0);
  const b = t.acquire('10.0.0.1:80', 0);
  assert.equal(t.inflight('10.0.0.1:80'), 2);
  assert.equal(t.release(a, 5), true);
  assert.equal(t.release(a, 6), false);
  assert.equal(t.inflight('10.0.0.1:80'), 1);
  assert.equal(t.release(b, 7), true);
  assert.equal(t.inflight('10.0.0.1:80'), 0);
  assert.equal(t.totalInflight(), 0);
});

test('an endpoint without samples costs the prior; the first sample replaces it', () => {
  const t = new LoadTracker();
  assert.equal(t.costMs('x', 0, 7), 7);
  t.observe('x', 3, 1000);
  assert.equal(t.costMs('x', 1000, 7), 3);
});

test('EWMA: each sample moves the cost by sampleWeight of the difference (no peak latch)', () => {
  const t = new LoadTracker({ sampleWeight: 0.25 });
  t.observe('x', 20, 0);
  t.observe('x', 50, 1);
  assert.equal(t.costMs('x', 1, 20), 27.5);
  t.observe('x', 20, 2);
  assert.equal(t.costMs('x', 2, 20), 25.625);
});

test('one stall does not make a pod look slow: the first sample blends into the prior, every sample is capped at 3x the estimate', () => {
  const t = new LoadTracker();
  t.observe('x', 400, 0, 20); // a first request that also set up the connection
  assert.equal(t.costMs('x', 0, 20), 20 + 0.2 * (60 - 20));
  t.observe('y', 30, 0, 20);
  assert.equal(t.costMs('y', 0, 20), 22);
  t.observe('z', 30, 0); // no prior known: the sample is the estimate
  assert.equal(t.costMs('z', 0, 20), 30);
});

test('a pod that gets 5x slower is seen above 2x its old cost within 4 samples', () => {
  const t = new LoadTracker();
  for (let i = 0; i < 20; i++) t.observe('x', 20, i);
  for (let i = 0; i < 4; i++) t.observe('x', 100, 20 + i);
  assert.ok(t.costMs('x', 23, 20) > 40, String(t.costMs('x', 23, 20)));
});

test('an idle endpoint drifts towards the prior (not towards 0) with e^(-dt/tau)', () => {
  const t = new LoadTracker({ decayMs: 1000 });
  t.observe('slow', 100, 0);
  t.observe('fast', 5, 0);
  assert.ok(Math.abs(t.costMs('slow', 1000, 20) - (20 + 80 * Math.exp(-1))) < 1e-9);
  assert.ok(Math.abs(t.costMs('fast', 1000, 20) - (20 - 15 * Math.exp(-1))) < 1e-9);
  assert.ok(Math.abs(t.costMs('fast', 20_000, 20) - 20) < 0.001);
});

test('release with a sample records (latency - RTT) / queue factor; without, only frees the slot', () => {
  const t = new LoadTracker();
  const s = t.acquire('x', 0, 20, 1.5);
  t.release(s, 80, true); // 80 ms observed, 20 ms RTT, expected 1.5x (half a service time of waiting)
  assert.equal(t.snapshot(0)[0]!.samples, 1);
  assert.equal(t.costMs('x', 80, 1), 40);
  const s2 = t.acquire('x', 100);
  t.release(s2, 160, false);
  assert.equal(t.snapshot(0)[0]!.samples, 1);
  assert.equal(t.inflight('x'), 0);
});

test('prune drops idle endpoints that left the model but keeps busy ones', () => {
  const t = new LoadTracker();
  t.observe('gone', 5, 0);
  t.acquire('busy', 0);
  t.observe('kept', 5, 0);
  t.prune(new Set(['kept']));
  assert.deepEqual(
    t.snapshot(0).map((e) => e.endpoint),
    ['busy', 'kept'],
  );
});

test('bad options are refused', () => {
  assert.throws(() => new LoadTracker({ decayMs: 0 }), RangeError);
  assert.throws(() => new LoadTracker({ sampleWeight: 1.5 }), RangeError);
});

test('extra hold: how much longer than RTT + service x queue factor slots are held (EWMA 0.1, never below 0)', () => {
  const t = new LoadTracker();
  assert.equal(t.extraHoldMs('x'), 0, 'nothing known');
  t.release(t.acquire('x', 0, 10, 1, 1, 20), 60, true); // held 60 ms, expected 10 + 20: 30 ms extra
  assert.equal(t.extraHoldMs('x'), 30);
  t.release(t.acquire('x', 100, 10, 1, 1, 20), 140, true); // 10 ms extra
  assert.equal(t.extraHoldMs('x'), 28);
  assert.equal(t.snapshot(0)[0]!.extraHoldMs, 28, 'shown in /debug/extproc');
  const u = new LoadTracker();
  u.release(u.acquire('y', 0, 10, 1, 1, 20), 25, true); // faster than expected
  assert.equal(u.extraHoldMs('y'), 0);
});

test('pick rate: each pick adds 1 / τ, the sum decays with τ', () => {
  const t = new LoadTracker();
  for (let i = 0; i < 10; i++) t.acquire('x', 0);
  assert.ok(Math.abs(t.picksPerMs('x', 0) - 10 / RATE_TAU_MS) < 1e-12);
  assert.ok(Math.abs(t.picksPerMs('x', RATE_TAU_MS) - (10 / RATE_TAU_MS) * Math.exp(-1)) < 1e-12);
  assert.equal(t.picksPerMs('never', 0), 0);
});

test('requests at the pod are bounded by LITTLE_BOUND x the pick rate x service time: slots whose stream ends are late stop filling an idle pod, a burst of recent picks counts in full', () => {
  const t = new LoadTracker();
  // 5 req/s for 10 s with a 20 ms service time, every stream end stuck since t = 9 s (a stall).
  let stuck = 0;
  for (let now = 0; now < 10_000; now += 200) {
    const s = t.acquire('idle', now, 0.2, 1, 1, 20);
    if (now < 9000) t.release(s, now + 21, true);
    else stuck++;
  }
  const bound = LITTLE_BOUND * t.picksPerMs('idle', 9_900) * 20;
  assert.equal(t.inflight('idle'), stuck);
  assert.ok(bound < 1, `bound ${bound}`);
  assert.ok(Math.abs(t.atPod('idle', 9_900) - bound) < 1e-9, 'the five stuck slots count as what 5 req/s can fill');
  // Answers stop for longer than ANSWERED_WITHIN_MS: the pod may have hung, every slot counts.
  assert.equal(t.atPod('idle', 9_021 + ANSWERED_WITHIN_MS + 1), stuck);
  // A burst the rate has not caught up with: 20 picks within 40 ms all count.
  const u = new LoadTracker();
  u.release(u.acquire('busy', 0, 0.2, 1, 1, 20), 20, true);
  for (let i = 0; i < 20; i++) u.acquire('busy', 30 + i * 2, 0.2, 1, 1, 20);
  assert.equal(u.atPod('busy', 70), 20);
  // Without a service time for the picks (no estimate) nothing bounds the count.
  const v = new LoadTracker();
  for (let i = 0; i < 3; i++) v.acquire('x', 0);
  assert.equal(v.atPod('x', 60_000), 3);
});
