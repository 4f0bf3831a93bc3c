import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extprocWaits, pickerLevel } from './extproc-waits.js';
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

test("a level's picker counters are the difference of two /debug/extproc views", () => {
  const before = { rules: { fastest: 10, queued: 0, saturated: 5 }, leftLocalWithRoom: 1, abandoned: 2, endpoints: [] };
  const after = {
    rules: { fastest: 40, queued: 5, saturated: 20 },
    leftLocalWithRoom: 4,
    abandoned: 2,
    endpoints: [{ extraHoldMs: 3.456 }, { extraHoldMs: 12.5 }],
  };
  assert.deepEqual(pickerLevel(before, after), {
    rules: { fastest: 30, queued: 5, saturated: 15 },
    saturatedShare: 0.3,
    leftLocalWithRoom: 3,
    abandoned: 0,
    maxExtraHoldMs: 12.5,
  });
  assert.equal(pickerLevel({}, {}).saturatedShare, 0);
});
