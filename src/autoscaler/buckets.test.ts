/** WindowBuckets against knative/serving `pkg/autoscaler/aggregation/bucketing_test.go`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WindowBuckets } from './buckets.js';

// Their `now := time.Now()` is not on a bucket edge; neither is this.
const NOW = 1_700_000_000_437;

test('TestTimedFloat64BucketsWindowAverage', () => {
  const b = new WindowBuckets(5000, 1000);
  let now = NOW;
  b.record(now, 1);
  assert.equal(b.windowAverage(now), 1, 'firstWrite is used (else 0.2)');
  for (let i = 1; i < 5; i++) b.record(now + i * 1000, i + 1);
  assert.equal(b.windowAverage(now + 4000), 15 / 5);
  assert.equal(b.windowAverage(now + 3600), 15 / 5, 'now lags behind');
  assert.equal(b.windowAverage(now + 6000), (15 - 1 - 2) / (5 - 2), 'short hole');
  assert.equal(b.windowAverage(now + 10_000), 0, 'long hole');
  b.record(now + 6000, 91);
  assert.equal(b.windowAverage(now + 6000), (15 - 1 - 2 + 91) / 5, 'write with holes');
  now += 60_000;
  b.record(now, 1984);
  assert.equal(b.windowAverage(now), 1984, 'much later');
  b.record(now - 3000, 4);
  assert.equal(b.windowAverage(now), (4 + 1984) / 4, 'an earlier time');
  now += 1000;
  b.record(now, 5);
  assert.equal(b.windowAverage(now), (4 + 1984 + 5) / 5);
  b.record(now - 3000, 10);
  assert.equal(b.windowAverage(now), (4 + 10 + 1984 + 5) / 5, 'an earlier time again');
  b.record(now - 6000, 10);
  assert.equal(b.windowAverage(now), (4 + 10 + 1984 + 5) / 5, 'too early: ignored');
  b.record(now - 5000, 10);
  assert.equal(b.windowAverage(now), (4 + 10 + 1984 + 5) / 5, 'at the bound: ignored');
  b.record(now + 5000, 10);
  assert.equal(b.windowAverage(now + 5000), 10, 'no data for exactly a window: cleared');
});

test('TestDescendingRecord', () => {
  const b = new WindowBuckets(5000, 1000);
  for (let i = 8000; i >= 0; i -= 1000) b.record(NOW + i, 5);
  assert.equal(b.windowAverage(NOW + 5000), 5);
});

test('values in one bucket add up (every pod of one scrape), and isEmpty after a window', () => {
  const b = new WindowBuckets(6000, 1000);
  b.record(NOW, 1.5);
  b.record(NOW + 1, 2.5);
  assert.equal(b.windowAverage(NOW), 4);
  assert.equal(b.isEmpty(NOW + 2000), false);
  assert.equal(b.isEmpty(NOW + 7000), true);
});
