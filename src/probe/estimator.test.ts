import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ewma, LossWindow, PeerEstimator, SlidingWindow, TimeEwma } from './estimator.js';
import { backoffDelayMs } from './backoff.js';

test('Ewma starts at the first sample and converges to a new level', () => {
  const e = new Ewma(0.3);
  assert.equal(e.value, undefined);
  assert.equal(e.observe(10), 10);
  for (let i = 0; i < 30; i++) e.observe(50);
  assert.ok(Math.abs(e.value! - 50) < 0.01, `got ${e.value}`);
  assert.throws(() => new Ewma(0), RangeError);
  assert.throws(() => new Ewma(1.5), RangeError);
});

test('TimeEwma forgets by elapsed time, not by sample count', () => {
  const a = new TimeEwma(1000);
  a.observe(0, 0);
  a.observe(100, 1000); // one time constant: 1 - 1/e of the way
  assert.ok(Math.abs(a.value! - 100 * (1 - Math.exp(-1))) < 1e-9);
  const b = new TimeEwma(1000);
  b.observe(0, 0);
  for (let i = 0; i < 10; i++) b.observe(100, 100); // ten samples of 100 ms = the same one time constant
  assert.ok(Math.abs(b.value! - a.value!) < 1e-9);
});

test('SlidingWindow quantile uses only the last N samples (nearest rank)', () => {
  const w = new SlidingWindow(10);
  assert.equal(w.quantile(0.9), undefined);
  for (let i = 1; i <= 10; i++) w.push(i);
  assert.equal(w.quantile(0.9), 9);
  assert.equal(w.quantile(1), 10);
  assert.equal(w.quantile(0), 1);
  for (let i = 0; i < 10; i++) w.push(100 + i); // old values fall out
  assert.equal(w.quantile(0), 100);
  assert.equal(w.count, 10);
});

test('LossWindow reports the failure share of the recent window', () => {
  const l = new LossWindow(4);
  assert.equal(l.ratio, 0);
  l.record(true);
  l.record(false);
  l.record(true);
  l.record(false);
  assert.equal(l.ratio, 0.5);
  for (let i = 0; i < 4; i++) l.record(true);
  assert.equal(l.ratio, 0);
});

test('PeerEstimator: unreachable after N consecutive failures, reachable again after one success', () => {
  const p = new PeerEstimator('b', { alpha: 0.5, windowSize: 10, failuresToUnreachable: 2, shiftRatio: 0.3, shiftMs: 5 });
  assert.equal(p.reachable, true);
  p.success(20, 1);
  p.failure(2);
  assert.equal(p.reachable, true);
  assert.equal(p.suspect, true);
  p.failure(3);
  assert.equal(p.reachable, false);
  assert.equal(p.suspect, false);
  const e = p.estimate();
  assert.equal(e.rttMs, 20); // failures do not move the RTT
  assert.ok(Math.abs(e.lossRatio - 2 / 3) < 1e-9);
  assert.equal(e.measuredAtMs, 3);
  p.success(24, 4);
  assert.equal(p.reachable, true);
  assert.equal(p.estimate().rttMs, 22);
  assert.equal(p.estimate().samples, 2);
});

test('PeerEstimator: two samples past the shift threshold on one side restart the average; noise does not', () => {
  const p = new PeerEstimator('b');
  for (const ms of [50, 52, 48, 51, 49]) p.success(ms, 0);
  const steady = p.rttMs!;
  p.success(70, 1); // a suspected shift is held until the next sample decides
  assert.equal(p.rttMs, steady);
  assert.equal(p.shiftPending, true);
  p.success(49, 2); // it was an outlier: both are averaged in, no jump
  assert.equal(p.shiftPending, false);
  assert.ok(p.rttMs! < 60 && p.rttMs! > steady);
  const before = p.rttMs!;
  p.success(150, 3);
  assert.equal(p.rttMs, before, 'half a shift is never reported');
  p.success(148, 4); // the link got 100 ms slower: within two samples
  assert.equal(p.rttMs, 149);
  p.success(160, 5);
  p.success(52, 6); // two big moves in opposite directions are noise, not a shift
  assert.ok(p.rttMs! > 100, `average ${p.rttMs} stayed near the new level`);
});

test('backoff grows exponentially, is capped, and jitters within [d/2, d]', () => {
  const opts = { baseMs: 100, maxMs: 1000 };
  assert.equal(
    backoffDelayMs(0, () => 0, opts),
    50,
  );
  assert.equal(
    backoffDelayMs(0, () => 1, opts),
    100,
  );
  assert.equal(
    backoffDelayMs(3, () => 1, opts),
    800,
  );
  assert.equal(
    backoffDelayMs(10, () => 1, opts),
    1000,
  );
  assert.equal(
    backoffDelayMs(10, () => 0, opts),
    500,
  );
});
