import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadTracker } from './load-tracker.js';

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

test('unobserved endpoints cost the default; the first sample replaces it', () => {
  const t = new LoadTracker({ defaultCostMs: 7 });
  assert.equal(t.costMs('x', 0), 7);
  t.observe('x', 3, 1000);
  assert.equal(t.costMs('x', 1000), 3);
});

test('peak-EWMA jumps up to a higher sample and decays towards lower ones with e^(-dt/tau)', () => {
  const t = new LoadTracker({ decayMs: 10_000 });
  t.observe('x', 10, 0);
  t.observe('x', 100, 1); // peak: taken at once
  assert.equal(t.costMs('x', 1), 100);
  t.observe('x', 10, 10_001); // one tau later: w = e^-1
  const w = Math.exp(-1);
  assert.ok(Math.abs(t.costMs('x', 10_001) - (100 * w + 10 * (1 - w))) < 1e-9);
});

test('cost decays towards zero while an endpoint gets no samples', () => {
  const t = new LoadTracker({ decayMs: 1000 });
  t.observe('x', 50, 0);
  assert.ok(Math.abs(t.costMs('x', 1000) - 50 * Math.exp(-1)) < 1e-9);
  assert.ok(t.costMs('x', 20_000) < 0.001);
});

test('release with a latency records a sample; invalid latencies are ignored', () => {
  const t = new LoadTracker({ defaultCostMs: 1 });
  const s = t.acquire('x', 0);
  t.release(s, 40, 40);
  assert.equal(t.snapshot(40)[0]!.samples, 1);
  assert.equal(t.costMs('x', 40), 40);
  const s2 = t.acquire('x', 50);
  t.release(s2, 60, Number.NaN);
  assert.equal(t.snapshot(60)[0]!.samples, 1);
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
