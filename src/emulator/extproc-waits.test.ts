import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extprocWaits } from './extproc-waits.js';
import type { RequestRecord } from './stats.js';

const rec = (decideMs: number | undefined, fellBack = false): RequestRecord => ({
  gateway: 'edge-1',
  startMs: 0,
  latencyMs: 50,
  ok: true,
  servedBy: 'edge-1',
  ...(decideMs !== undefined ? { decideMs } : {}),
  ...(fellBack ? { fellBack } : {}),
});

test('decision waits: nearest-rank quantiles over the records that asked, and the share that fell back', () => {
  const records = [...Array.from({ length: 98 }, (_, i) => rec(1 + i / 100)), rec(30, true), rec(400, true), rec(undefined)];
  const w = extprocWaits(records)!;
  assert.equal(w.requests, 100);
  assert.equal(w.p50Ms, 1.49);
  assert.equal(w.p95Ms, 1.94);
  assert.equal(w.p99Ms, 30);
  assert.equal(w.maxMs, 400);
  assert.equal(w.fellBackShare, 0.02);
});

test('a level without ext_proc has no decision waits', () => {
  assert.equal(extprocWaits([rec(undefined), rec(undefined)]), undefined);
});
