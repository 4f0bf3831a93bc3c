import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestRecord } from '../stats.js';
import { analyseRun, recoveredInTime } from './analysis.js';
import { closedLoopChecks, placementCostTable, summariseSetups } from './report.js';
import type { ClosedLoopRun } from './run.js';

/** Requests every 10 ms from `from` to `to` at `gateway`, served on `servedBy(t)`, `latencyMs` each. */
function traffic(
  gateway: string,
  from: number,
  to: number,
  servedBy: (t: number) => string,
  latencyMs: (t: number) => number,
): RequestRecord[] {
  const out: RequestRecord[] = [];
  for (let t = from; t < to; t += 10) out.push({ gateway, startMs: t, latencyMs: latencyMs(t), ok: true, servedBy: servedBy(t) });
  return out;
}

// Step at 2 s, fall at 12 s, end 15 s. edge-1 spills to cloud-1 from 2 s until 5.5 s, then is local again.
const records = [
  ...traffic(
    'edge-1',
    0,
    15_000,
    (t) => (t >= 2000 && t < 5500 && t % 20 === 0 ? 'cloud-1' : 'edge-1'),
    (t) => (t >= 2000 && t < 5500 ? 60 : 10),
  ),
  ...traffic(
    'edge-2',
    0,
    15_000,
    () => 'edge-2',
    () => 10,
  ),
];
const pods = [
  { name: 'hello-edge-1-1', node: 'edge-1', createdAtMs: 0, readyAtMs: 0, initial: true },
  {
    name: 'hello-00001-deployment-1',
    node: 'edge-1',
    createdAtMs: 2600,
    readyAtMs: 3600,
    firstServedAtMs: 3900,
    initial: false,
    reason: 'unmet demand: …',
    stepGatewayDemand: { rps: 39.84, lrsRps: 15.4, localPodsRps: 39.84, source: 'local-pods' },
  },
  { name: 'hello-00001-deployment-2', node: 'edge-1', createdAtMs: 2600, readyAtMs: 3700, deletedAtMs: 14_000, initial: false },
];

test('analyseRun: phases, where pods landed, scale-up, first local serving and the 95 % recovery', () => {
  const m = analyseRun({ records, windowMs: 1000, stepAtMs: 2000, fallAtMs: 12_000, endMs: 15_000, stepGateway: 'edge-1', pods });
  assert.equal(m.before.stepGatewayLocalShare, 1);
  assert.ok(m.during.stepGatewayLocalShare < 0.95 && m.during.stepGatewayLocalShare > 0.8);
  assert.equal(m.after.localShare, 1);
  assert.deepEqual(m.landed, { 'edge-1': 2 });
  assert.equal(m.scaleUpMs, 1700);
  assert.equal(m.newLocalPodServingMs, 1900);
  // Windows start at 0, 1000, … after the step; 3000–4000 after it (5–6 s) still has spill until 5.5 s; 4000 on is local.
  assert.equal(m.localRecoveryMs, 4000);
  assert.equal(m.plateauLocalShare, 1);
  assert.equal(recoveredInTime(m, 1000), false, '4000 > 1700 + 2 × 1000');
  assert.equal(recoveredInTime(m, 1500), true, '4000 ≤ 1700 + 2 × 1500');
  // edge-1's requests during the step: 350 of 1000 at 60 ms (2–5.5 s), the rest at 10 ms.
  assert.ok(Math.abs(m.during.stepGatewayMeanMs - (350 * 60 + 650 * 10) / 1000) < 0.01, String(m.during.stepGatewayMeanMs));
  assert.equal(m.during.meanMs, (350 * 60 + 650 * 10 + 1000 * 10) / 2000);
});

test('the local share is measured per probe interval, on whole window offsets even when the step starts off the millisecond', () => {
  const m = analyseRun({ records, windowMs: 500, stepAtMs: 2000.4, fallAtMs: 12_000.4, endMs: 15_000, stepGateway: 'edge-1', pods });
  assert.deepEqual(
    m.stepGatewayTimeline.slice(0, 4).map((w) => w.tMs),
    [0, 500, 1000, 1500],
  );
  assert.ok(m.stepGatewayTimeline.every((w) => Number.isInteger(w.tMs) && w.requests === 50));
  // Spill ends at 5.5 s = 3499.6 ms after the step: the window from 3500 on is the first all-local one.
  assert.equal(m.localRecoveryMs, 3500);
  assert.throws(
    () => analyseRun({ records, windowMs: 0, stepAtMs: 2000, fallAtMs: 12_000, endMs: 15_000, stepGateway: 'edge-1', pods }),
    RangeError,
  );
});

test('a step gateway that never gets back to 95 % has no recovery time, and a check over seeds fails on one bad seed', () => {
  const spill = traffic(
    'edge-1',
    0,
    15_000,
    (t) => (t >= 2000 && t % 20 === 0 ? 'cloud-1' : 'edge-1'),
    () => 30,
  );
  const cloudPods = pods.map((p) => (p.initial ? p : { ...p, node: 'cloud-1' }));
  const bad = analyseRun({
    records: spill,
    windowMs: 1000,
    stepAtMs: 2000,
    fallAtMs: 12_000,
    endMs: 15_000,
    stepGateway: 'edge-1',
    pods: cloudPods,
  });
  assert.equal(bad.localRecoveryMs, undefined);
  assert.equal(bad.newLocalPodServingMs, undefined);
  assert.deepEqual(bad.landed, { 'cloud-1': 2 });
  const good = analyseRun({ records, windowMs: 1000, stepAtMs: 2000, fallAtMs: 12_000, endMs: 15_000, stepGateway: 'edge-1', pods });
  const run = (setup: string, seed: number, measures: typeof good): ClosedLoopRun => ({ setup, seed, measures, scaleEvents: [] });
  const runs = [...[1, 2, 3].map((seed) => run('proxima+extender', seed, good)), ...[1, 2, 3].map((seed) => run('proxima', seed, bad))];
  const checks = closedLoopChecks(runs, {
    stepNode: 'edge-1',
    nearestNode: 'edge-2',
    probeIntervalMs: 1500,
    extenderSetup: 'proxima+extender',
    baselines: ['proxima'],
  });
  assert.deepEqual(
    checks.map((c) => c.pass),
    [true, true, false],
    'placement and recovery pass; the latency check fails: the spill makes p95 60 ms against 30 ms',
  );
  const mixed = closedLoopChecks([...runs.slice(0, 2), run('proxima+extender', 3, bad), ...runs.slice(3)], {
    stepNode: 'edge-1',
    nearestNode: 'edge-2',
    probeIntervalMs: 1500,
    extenderSetup: 'proxima+extender',
    baselines: ['proxima'],
  });
  assert.equal(mixed[0]!.pass, false, 'one seed with pods elsewhere fails the placement check');
  assert.match(mixed[0]!.detail, /seed 3: 0 of 2 on edge-1, 0 on edge-2, first on cloud-1 \(\+600 ms; /);
  // The extender's view of the step node when it placed the first pod, and the input that decided it.
  assert.match(
    mixed[0]!.detail,
    /seed 1: 2 of 2 on edge-1, 0 on edge-2, first on edge-1 \(\+600 ms; edge-1's demand 39\.8 req\/s from local-pods: LRS 15\.4, its pods 39\.8\)/,
  );
  assert.equal(mixed[1]!.pass, false);
  const s = summariseSetups(runs);
  assert.deepEqual(
    s.map((x) => x.setup),
    ['proxima+extender', 'proxima'],
  );
  assert.equal(s[0]!.scaleUpMs.mean, 1700);
  const cost = placementCostTable(s, { extenderSetup: 'proxima+extender', stepNode: 'edge-1', nearestNode: 'edge-2' });
  const row = (setup: string) => cost.split('\n').find((l) => l.startsWith(`| ${setup} `))!;
  assert.match(row('proxima+extender'), /\| 0, 0, 0 +\|.*\(reference\)/);
  // Without the extender both added pods went to cloud-1 in each seed; edge-1's requests: 30 ms against 27.5 ms.
  assert.match(row('proxima'), /\| 2, 2, 2 +\| 30\.0 ± 0\.0 +\|/);
  // The fixtures give identical seeds (zero-width intervals); p95: the extender run's spill makes its own 60 ms against 30.
  assert.match(row('proxima'), /\| -30\.0 ms \(intervals apart\) +\| \+2\.5 ms \(intervals apart\) +\|$/);
});

test('scale-down removes a not-ready pod first, then from the node with the most replicas, newest first', async () => {
  const { podToDelete } = await import('./revision-pods.js');
  const pods = [
    { name: 'a', node: 'edge-1', createdAtMs: 0, readyAtMs: 0 },
    { name: 'b', node: 'edge-1', createdAtMs: 5, readyAtMs: 6 },
    { name: 'c', node: 'edge-1', createdAtMs: 3, readyAtMs: 4 },
    { name: 'd', node: 'edge-2', createdAtMs: 9, readyAtMs: 10 },
  ];
  assert.equal(podToDelete(pods)?.name, 'b');
  assert.equal(podToDelete([...pods, { name: 'e', node: 'edge-2', createdAtMs: 1 }])?.name, 'e');
  assert.equal(podToDelete([]), undefined);
});
