import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KNATIVE_KPA_DEFAULTS, deciderSpecFor, kpaConfigErrors, panicWindowMs, resolveConcurrencyTarget, scaleKpaTime } from './config.js';
import { ScaleToZeroGate } from './scale-to-zero.js';

test('config-autoscaler defaults as knative/serving ships them, and what they make of a revision', () => {
  assert.deepEqual(kpaConfigErrors(KNATIVE_KPA_DEFAULTS), []);
  // containerConcurrency 0 → container-concurrency-target-default 100 × 70 %.
  assert.deepEqual(resolveConcurrencyTarget(0, KNATIVE_KPA_DEFAULTS), { target: 70, total: 100 });
  // containerConcurrency 2 caps the target (target.go: total = containerConcurrency).
  const s = deciderSpecFor(2, KNATIVE_KPA_DEFAULTS);
  assert.equal(s.targetValue, 1.4);
  assert.equal(s.panicThreshold, 2);
  assert.equal(s.maxScaleUpRate, 1000);
  assert.equal(s.maxScaleDownRate, 2);
  assert.equal(panicWindowMs(KNATIVE_KPA_DEFAULTS), 6000);
  const fast = scaleKpaTime(KNATIVE_KPA_DEFAULTS, 0.1);
  assert.equal(fast.stableWindowMs, 6000);
  assert.equal(panicWindowMs(fast), 600);
  assert.equal(fast.tickMs, 200);
  assert.equal(fast.maxScaleUpRate, 1000);
  assert.throws(() => scaleKpaTime(KNATIVE_KPA_DEFAULTS, 0), /time factor/);
  assert.deepEqual(kpaConfigErrors({ ...KNATIVE_KPA_DEFAULTS, targetBurstCapacity: -2, scaleToZeroGracePeriodMs: 0 }), [
    'target-burst-capacity: non-negative or -1',
    'scale-to-zero-grace-period: must be positive',
  ]);
});

test('scale to zero: held at 1 for the stable window, then inactive (activator), then 0 after the grace period', () => {
  const cfg = KNATIVE_KPA_DEFAULTS;
  const g = new ScaleToZeroGate(cfg, 0);
  assert.equal(g.apply(3, 3, 10_000).pods, 3);
  const early = g.apply(0, 3, 30_000);
  assert.equal(early.pods, 1);
  assert.match(early.reason, /stable window/);
  const deactivate = g.apply(0, 1, 60_000);
  assert.deepEqual([deactivate.pods, deactivate.activity], [1, 'inactive']);
  assert.equal(g.apply(0, 1, 89_999).pods, 1, 'grace period (30 s) not over');
  assert.equal(g.apply(0, 1, 90_000).pods, 0);
  // A request through the activator: any demand reactivates.
  const back = g.apply(1, 0, 95_000);
  assert.deepEqual([back.pods, back.activity], [1, 'active']);
  assert.equal(g.apply(0, 1, 100_000).pods, 1, 'a fresh stable window before zero again');
});

test('scale to zero disabled keeps one pod; pod retention longer than the grace period wins', () => {
  assert.equal(new ScaleToZeroGate({ ...KNATIVE_KPA_DEFAULTS, enableScaleToZero: false }, 0).apply(0, 1, 1e9).pods, 1);
  const g = new ScaleToZeroGate({ ...KNATIVE_KPA_DEFAULTS, scaleToZeroPodRetentionMs: 120_000 }, 0);
  g.apply(0, 1, 60_000);
  assert.equal(g.apply(0, 1, 150_000).pods, 1);
  assert.equal(g.apply(0, 1, 180_000).pods, 0);
});

test('a revision under steady load scales to its target, and to zero after the load stops (windows, decider, gate)', async () => {
  const { RevisionAutoscaler } = await import('./revision.js');
  const cfg = scaleKpaTime(KNATIVE_KPA_DEFAULTS, 0.1); // 6 s stable, 0.6 s panic, 0.1 s buckets, 0.2 s ticks
  const a = new RevisionAutoscaler(cfg, 2, 1, 0);
  let pods = 1;
  let last;
  // 7 concurrent requests on a target of 1.4 per pod: 5 pods.
  for (let t = 0; t <= 8000; t += 100) {
    a.record(t, { concurrency: 7 });
    if (t % 200 === 0) {
      last = a.tick(t, pods, pods);
      pods = last.wantPods;
    }
  }
  assert.equal(pods, 5);
  // The load stops: the stable window empties, the revision turns inactive, then zero after the grace period (3 s scaled).
  const seen: number[] = [];
  for (let t = 8100; t <= 30_000; t += 100) {
    a.record(t, { concurrency: 0 });
    if (t % 200 === 0) {
      last = a.tick(t, pods, pods);
      pods = last.wantPods;
      seen.push(pods);
    }
  }
  assert.equal(pods, 0);
  assert.ok(seen.includes(1), 'held at one pod before zero');
});
