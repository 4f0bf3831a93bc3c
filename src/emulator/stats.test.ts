import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  arrivedRps,
  assignmentFirstMoveMs,
  assignmentSettleMs,
  failuresStopAfterMs,
  settledNearMs,
  summarise,
  timeline,
  type RequestRecord,
} from './stats.js';

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
  assert.equal(s.localShare, 0.6667, 'to 0.01 %');
  assert.deepEqual(s.matrix, { 'edge-1': { 'edge-1': 2, cloud: 1 } });
});

test('summary at the deadline: timed-out requests count at the deadline, other failures stay out', () => {
  const failed = (latencyMs: number, error: string): RequestRecord => ({ ...rec(9, latencyMs, '', false), error });
  const rs = [
    rec(0, 100, 'edge-1'),
    rec(1, 300, 'edge-1'),
    failed(1002, '4 DEADLINE_EXCEEDED: Deadline exceeded after 1.002s,remote_addr=127.0.1.1:8080'),
    failed(3, '14 UNAVAILABLE: No connection established'),
  ];
  const s = summarise(rs, 0, 1000);
  assert.equal(s.meanMs, 200, 'the plain mean still averages successful requests only');
  assert.deepEqual(s.atDeadline, { deadlineMs: 1000, timedOut: 1, meanMs: 466.67, p95Ms: 1000 });
  assert.equal(summarise(rs).atDeadline, undefined, 'no deadline given, no figures at it');
  assert.equal(summarise(rs.slice(0, 2), 0, 1000).atDeadline?.meanMs, 200, 'nothing timed out: the same mean');
});

test('timeline and failure stop time', () => {
  const rs: RequestRecord[] = [];
  for (let t = 0; t < 10_000; t += 50) {
    const after = t >= 4000;
    rs.push(rec(t, after ? 60 : 5, after && t >= 5000 ? 'cloud' : after && t % 100 === 0 ? 'cloud' : 'edge-1', !(t >= 4000 && t < 4600)));
  }
  const b = timeline(rs, 500);
  assert.equal(b.length, 20);
  assert.equal(b[8]!.errors, 10);
  assert.equal(failuresStopAfterMs(b, 4000, 500), 1000);
});

test('assignment settle: the first sample from which the gateway assignment stays near its final value', () => {
  const s = (tMs: number, cloud: number) => ({ tMs, shares: { 'edge-1': { 'cloud-1': cloud, 'edge-2': 100 - cloud } } });
  const samples = [s(0, 100), s(250, 100), s(500, 100), s(750, 40), s(1000, 70), s(1250, 35), s(1500, 38), s(1750, 36)];
  assert.equal(assignmentSettleMs(samples, 'edge-1', 250, 2000), 1000);
  assert.equal(assignmentSettleMs([s(0, 50), s(250, 50)], 'edge-1', 0, 1000), 0);
});

test('assignment first move: the first sample after the event that differs from the last one before', () => {
  const s = (tMs: number, cloud: number) => ({ tMs, shares: { 'edge-1': { 'cloud-1': cloud, 'edge-2': 100 - cloud } } });
  const samples = [s(0, 100), s(250, 100), s(500, 95), s(750, 40), s(1000, 70)];
  assert.equal(assignmentFirstMoveMs(samples, 'edge-1', 300, 2000), 450);
  assert.ok(Number.isNaN(assignmentFirstMoveMs([s(0, 100), s(500, 100)], 'edge-1', 300, 2000)));
});

test('settledNearMs: from the first sample that stays within the tolerance of the target until the window ends', () => {
  const at = (tMs: number, cloud: number) => ({ tMs, shares: { 'edge-2': { 'edge-2': 100 - cloud, 'cloud-1': cloud } } });
  const best = { 'edge-2': 80, 'cloud-1': 20 };
  const samples = [at(900, 0), at(1000, 0), at(1250, 16), at(1500, 24), at(1750, 30), at(2000, 22), at(2250, 19), at(3000, 21)];
  // Near best (≤ 5 points) from 1250, but 30 at 1750 breaks it: it stays from 2000.
  assert.equal(settledNearMs(samples, 'edge-2', best, 1000, 3100, 5), 1000);
  // Ending 10 points off never counts as settled.
  assert.ok(Number.isNaN(settledNearMs([...samples, at(3050, 30)], 'edge-2', best, 1000, 3100, 5)));
  assert.ok(Number.isNaN(settledNearMs([], 'edge-2', best, 1000, 3100, 5)));
});

test('arrivedRps: requests per second that entered each gateway in the window, failed ones included', () => {
  const r = (gateway: string, startMs: number, ok = true) => ({ gateway, startMs, latencyMs: 1, ok, servedBy: ok ? gateway : '' });
  const records = [r('a', 0), r('a', 500), r('a', 1999, false), r('b', 1000), r('a', 2000), r('b', -1)];
  assert.deepEqual(arrivedRps(records, 0, 2000), { a: 1.5, b: 0.5 });
  assert.deepEqual(arrivedRps(records, 2000, 2000), {});
});
