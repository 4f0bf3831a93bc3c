import assert from 'node:assert/strict';
import { test } from 'node:test';
import { overheadFromIdleRoundTrips } from './overhead.js';
import type { RequestRecord } from './stats.js';

const rec = (over: Partial<RequestRecord>): RequestRecord => ({
  gateway: 'edge-1',
  startMs: 0,
  latencyMs: 25,
  ok: true,
  servedBy: 'edge-1',
  podMs: 21,
  ...over,
});

test('overhead: mean response minus in-pod time over local, successful requests with a known pod time', () => {
  const c = overheadFromIdleRoundTrips([
    rec({ latencyMs: 25, podMs: 21 }),
    rec({ latencyMs: 30, podMs: 24 }),
    rec({ latencyMs: 22, podMs: 20 }),
    rec({ latencyMs: 90, podMs: 20, servedBy: 'cloud-1' }), // crossed a link: not an idle local round trip
    rec({ latencyMs: 5000, ok: false, servedBy: '' }),
    rec({ latencyMs: 40, podMs: undefined }),
  ])!;
  assert.equal(c.requests, 3);
  assert.equal(c.overheadMs, 4);
  assert.equal(c.p50Ms, 4);
  assert.match(c.description, /3 requests/);
  assert.equal(overheadFromIdleRoundTrips([rec({ servedBy: 'cloud-1' })]), undefined);
});
