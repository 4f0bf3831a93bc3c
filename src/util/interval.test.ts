import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareIntervals, formatInterval, meanInterval, t95 } from './interval.js';

test('meanInterval: Student t interval over seeds', () => {
  const i = meanInterval([10, 12, 11, 13, 9]);
  assert.equal(i.n, 5);
  assert.equal(i.mean, 11);
  // s = sqrt(2.5), t(4) = 2.776 → 2.776 * sqrt(2.5 / 5)
  assert.ok(Math.abs(i.halfWidth - 2.776 * Math.sqrt(0.5)) < 1e-9);
  assert.ok(i.low < 11 && i.high > 11);
});

test('meanInterval: one value has no interval, non-finite values are left out', () => {
  const one = meanInterval([5, NaN]);
  assert.equal(one.n, 1);
  assert.equal(one.mean, 5);
  assert.ok(Number.isNaN(one.halfWidth));
  assert.equal(meanInterval([]).n, 0);
});

test('compareIntervals: only non-overlapping intervals show a difference', () => {
  const fast = meanInterval([10, 11, 10.5, 10.2, 10.8]);
  const slow = meanInterval([20, 21, 19, 22, 20]);
  assert.equal(compareIntervals(fast, slow), 'lower');
  assert.equal(compareIntervals(slow, fast), 'higher');
  const overlapping = meanInterval([10, 30, 15, 25, 20]);
  assert.equal(compareIntervals(fast, overlapping), 'no difference shown');
  assert.equal(compareIntervals(meanInterval([1]), meanInterval([100])), 'no difference shown');
});

test('t95 and formatting', () => {
  assert.equal(t95(1), 12.706);
  assert.equal(t95(100), 1.96);
  assert.ok(Number.isNaN(t95(0)));
  assert.equal(formatInterval(meanInterval([12, 12.4, 11.6])), '12.0 ± 1.0');
  assert.equal(formatInterval(meanInterval([7])), '7.0');
});
