import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DelayLine, MutableDelayMatrix, oneWayDelayMs } from './netem.js';
import { mulberry32 } from '../util/rng.js';

test('one-way delay is half the RTT on average, jittered, never negative', () => {
  const m = new MutableDelayMatrix();
  m.set('a', 'b', { rttMs: 50, jitterMs: 10 });
  const rng = mulberry32(1);
  const samples = Array.from({ length: 20000 }, () => oneWayDelayMs(m, 'a', 'b', rng));
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  assert.ok(Math.abs(mean - 25) < 0.3, `mean ${mean}`);
  const sd = Math.sqrt(samples.reduce((s, x) => s + (x - mean) ** 2, 0) / samples.length);
  assert.ok(Math.abs(sd - 5) < 0.3, `sd ${sd}`);
  assert.ok(samples.every((x) => x >= 0));
  assert.equal(oneWayDelayMs(m, 'a', 'a', rng), 0);
  assert.equal(oneWayDelayMs(m, 'a', 'c', rng), 0);
});

test('the delay line never reorders', () => {
  const line = new DelayLine();
  assert.equal(line.releaseAt(0, 30), 30);
  assert.equal(line.releaseAt(1, 5), 30, 'a later item with less delay waits for the earlier one');
  assert.equal(line.releaseAt(40, 5), 45);
});
