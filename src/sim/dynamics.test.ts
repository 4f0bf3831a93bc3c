import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faastScenario } from '../emulator/scenario.js';
import { dynamicsLine, levelDynamics, oscillationPeriod, poolDynamics, sharesOf } from './dynamics.js';
import { simulateDemo } from './from-demo.js';

test('dynamics: the oscillation period is the first autocorrelation peak; flat or trending series have none', () => {
  const sine = Array.from({ length: 120 }, (_, i) => 50 + 30 * Math.sin((2 * Math.PI * i) / 16));
  assert.equal(oscillationPeriod(sine), 16);
  assert.ok(Number.isNaN(oscillationPeriod(Array.from({ length: 60 }, () => 40))));
  assert.ok(Number.isNaN(oscillationPeriod(Array.from({ length: 60 }, (_, i) => i))));
  assert.ok(Number.isNaN(oscillationPeriod([1, 2, 1])));
});

test('dynamics: time mean, spread and period of the shares; served share and pod time per node', () => {
  const samples = Array.from({ length: 40 }, (_, i) => ({
    tMs: i * 1000,
    shares: { 'edge-1': i % 2 === 0 ? { 'edge-1': 80, 'cloud-1': 20 } : { 'edge-1': 20, 'cloud-1': 80 } },
  }));
  const d = levelDynamics(
    samples,
    1000,
    { 'edge-1': { requests: 3, inPodSumMs: 300, appSumMs: 60 }, 'cloud-1': { requests: 1, inPodSumMs: 50, appSumMs: 21 } },
    { 'edge-1': { 'edge-1': 3, 'cloud-1': 1 } },
  );
  assert.deepEqual(d.appMeanMs, { 'cloud-1': 21, 'edge-1': 20 });
  assert.deepEqual(d.routedPct, { 'edge-1': { 'edge-1': 75, 'cloud-1': 25 } });
  assert.equal(d.samples, 40);
  assert.deepEqual(d.meanSharePct['edge-1'], { 'cloud-1': 50, 'edge-1': 50 });
  assert.equal(d.shareSdPct['edge-1']!['edge-1'], 30);
  assert.equal(d.localPeriodS['edge-1'], 2);
  assert.deepEqual(d.servedPct, { 'cloud-1': 25, 'edge-1': 75 });
  assert.deepEqual(d.podMeanMs, { 'cloud-1': 50, 'edge-1': 100 });
  // Pooling weights pod times by requests and averages the shares.
  const other = levelDynamics(samples.slice(0, 20), 1000, { 'edge-1': { requests: 1, inPodSumMs: 500 } });
  const pooled = poolDynamics([
    { dynamics: d, served: { 'edge-1': { requests: 3, inPodSumMs: 300 }, 'cloud-1': { requests: 1, inPodSumMs: 50 } } },
    { dynamics: other, served: { 'edge-1': { requests: 1, inPodSumMs: 500 } } },
  ])!;
  assert.equal(pooled.podMeanMs['edge-1'], 200);
  assert.equal(pooled.servedPct['edge-1'], 80);
  assert.equal(pooled.samples, 60);
  assert.match(
    dynamicsLine(d, pooled, ['edge-1']),
    /edge-1→edge-1 share 50±30 % vs 50±30 % \(routed 75 vs – %\), period 2 vs 2 s; cloud-1 served 25 vs 20 %/,
  );
  assert.equal(poolDynamics([]), undefined);
});

test('dynamics: the simulator table reads as /debug/assignments shares (priority 0 only, in %)', () => {
  const table = new Map([
    [
      'edge-1',
      {
        gateway: 'edge-1',
        service: 's',
        reason: '',
        localities: [
          { node: 'edge-1', priority: 0, weight: 3 },
          { node: 'cloud-1', priority: 0, weight: 1 },
          { node: 'edge-2', priority: 1, weight: 5 },
        ],
      },
    ],
  ]);
  assert.deepEqual(sharesOf(table), { 'edge-1': { 'edge-1': 75, 'cloud-1': 25 } });
});

test('dynamics: in the simulated demo faast swings with its feedback loop, proxima holds its weights', () => {
  const demo = { ...faastScenario('full', 1), users: [45], policies: ['faast', 'proxima'], warmupMs: 30_000, measureMs: 90_000 };
  const out = simulateDemo(demo, { probeIntervalMs: 1000, replications: 1 });
  const faast = out['faast']![0]!.dynamics!;
  const proxima = out['proxima']![0]!.dynamics!;
  // FaaSt moves weight off a node once its 10 s window shows the queue, back once it forgot it.
  assert.ok(faast.shareSdPct['edge-1']!['edge-1']! > 10, JSON.stringify(faast.shareSdPct));
  assert.ok(faast.localPeriodS['edge-1']! >= 8 && faast.localPeriodS['edge-1']! <= 24, JSON.stringify(faast.localPeriodS));
  const proximaSwing = Math.max(...Object.values(proxima.shareSdPct).flatMap((row) => Object.values(row)));
  assert.ok(proximaSwing < 5, JSON.stringify(proxima.shareSdPct));
  // Where faast's requests went: the edge pods' queues are what its P_j reads.
  assert.ok(faast.podMeanMs['edge-1']! > 3 * (proxima.podMeanMs['edge-1'] ?? 20), JSON.stringify([faast.podMeanMs, proxima.podMeanMs]));
  assert.ok(Math.abs(Object.values(faast.servedPct).reduce((a, b) => a + b, 0) - 100) < 0.5);
  // The pods' own service time is the scenario's 20 ms whatever the queueing (the live demo's pods slow down on a starved machine).
  for (const n of ['edge-1', 'edge-2', 'cloud-1']) assert.ok(Math.abs(faast.appMeanMs![n]! - 20) < 1.5, JSON.stringify(faast.appMeanMs));
  // The simulated data plane follows the weights: what a gateway routed to a node is its time-mean share.
  for (const g of ['edge-1', 'edge-2'])
    for (const n of ['edge-1', 'edge-2', 'cloud-1'])
      assert.ok(
        Math.abs(faast.routedPct![g]![n]! - faast.meanSharePct[g]![n]!) < 3,
        JSON.stringify([g, n, faast.routedPct, faast.meanSharePct]),
      );
});
