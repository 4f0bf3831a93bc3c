import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failuresStopAfterMs, settleTimeMs, summarise, timeline, type RequestRecord } from './stats.js';

const rec = (startMs: number, latencyMs: number, servedBy: string, ok = true, gateway = 'edge-1'): RequestRecord => ({
  gateway,
  startMs,
  latencyMs,
  ok,
  servedBy: ok ? servedBy : '',
});

test('summary: percentiles over successful requests, local share, matrix', () => {
  const rs = [rec(0, 10, 'edge-1'), rec(1, 20, 'edge-1'), rec(2, 60, 'cloud'), rec(3, 0, '', false)];
  const s = summarise(rs, 2);
  assert.equal(s.requests, 4);
  assert.equal(s.errors, 1);
  assert.equal(s.dropped, 2);
  assert.equal(s.meanMs, 30);
  assert.equal(s.p50Ms, 20);
  assert.equal(s.localShare, 0.67);
  assert.deepEqual(s.matrix, { 'edge-1': { 'edge-1': 2, cloud: 1 } });
});

test('timeline, failure stop and settle times', () => {
  const rs: RequestRecord[] = [];
  for (let t = 0; t < 10_000; t += 50) {
    const after = t >= 4000;
    rs.push(rec(t, after ? 60 : 5, after && t >= 5000 ? 'cloud' : after && t % 100 === 0 ? 'cloud' : 'edge-1', !(t >= 4000 && t < 4600)));
  }
  const b = timeline(rs, 500);
  assert.equal(b.length, 20);
  assert.equal(b[8]!.errors, 10);
  assert.equal(failuresStopAfterMs(b, 4000, 500), 1000);
  assert.equal(settleTimeMs(b, 'cloud', 4000, 10_000), 1000);
});
