import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrivalOffsetsMs, percentile, runOpenLoop } from './loadgen.js';
import { mulberry32 } from '../util/rng.js';

test('constant spacing is even; poisson spacing has the right mean rate', () => {
  assert.deepEqual(arrivalOffsetsMs({ ratePerSecond: 4, durationMs: 1000, spacing: 'constant' }, mulberry32(1)), [0, 250, 500, 750]);
  const n = arrivalOffsetsMs({ ratePerSecond: 100, durationMs: 100_000, spacing: 'poisson' }, mulberry32(2)).length;
  assert.ok(Math.abs(n - 10_000) < 300, `${n} arrivals`);
});

test('open loop: arrivals do not wait for slow responses; over maxInFlight they are dropped', async () => {
  const started: number[] = [];
  const r = await runOpenLoop(
    { ratePerSecond: 100, durationMs: 200, spacing: 'constant', maxInFlight: 5, rng: mulberry32(1), epochMs: performance.now() },
    async () => {
      started.push(performance.now());
      await new Promise((res) => setTimeout(res, 100));
      return { servedBy: 'n1' };
    },
  );
  // 20 arrivals over 200 ms, each taking 100 ms: at most 5 in flight, so about half are dropped.
  assert.equal(r.samples.length + r.dropped, 20);
  assert.ok(r.dropped >= 5 && r.dropped <= 15, `dropped ${r.dropped}`);
  assert.ok(r.samples.every((s) => s.ok && s.servedBy === 'n1' && s.latencyMs >= 99));
});

test('percentile by nearest rank', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 50), 50);
  assert.equal(percentile(v, 95), 95);
  assert.equal(percentile(v, 100), 100);
  assert.ok(Number.isNaN(percentile([], 50)));
});
