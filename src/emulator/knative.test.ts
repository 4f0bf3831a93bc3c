/**
 * The emulated Knative's rules, checked against knative/serving: the activator's pod choice
 * (pkg/activator/net/lb_policy.go, throttler.go newRevisionThrottler), the excess burst capacity
 * (pkg/autoscaler/scaling/autoscaler.go), the KPA's mode (pkg/reconciler/autoscaling/kpa/kpa.go) and
 * the public endpoints the SKS reconciler writes (pkg/reconciler/serverlessservice/serverlessservice.go).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lbPolicyFor, type PodTracker } from './knative-lb.js';
import { emulatedServerlessService, excessBurstCapacity, kpaMode, KNATIVE_TARGET_BURST_CAPACITY, publicEndpoints } from './knative-sks.js';
import { mulberry32 } from '../util/rng.js';
import type { Endpoint } from '../model/types.js';

const trackers = (...inFlight: number[]): PodTracker[] => inFlight.map((n, i) => ({ dest: `10.0.0.${i + 1}:8012`, inFlight: n }));

test('activator lb: containerConcurrency ≤ 3 → the first pod (by address) with a free slot, else none (queue)', () => {
  const pick = lbPolicyFor(2, mulberry32(1));
  assert.equal(pick(trackers(0, 0, 0))?.dest, '10.0.0.1:8012');
  assert.equal(pick(trackers(2, 1, 0))?.dest, '10.0.0.2:8012');
  assert.equal(pick(trackers(2, 2, 2)), undefined);
});

test('activator lb: containerConcurrency > 3 → round robin over pods with a free slot', () => {
  const pick = lbPolicyFor(10, mulberry32(1));
  const t = trackers(0, 0, 10);
  assert.deepEqual(
    [pick(t), pick(t), pick(t), pick(t)].map((x) => x?.dest),
    ['10.0.0.1:8012', '10.0.0.2:8012', '10.0.0.1:8012', '10.0.0.2:8012'],
  );
  assert.equal(pick(trackers(10, 10)), undefined);
});

test('activator lb: containerConcurrency 0 → the less loaded of two random pods; never none', () => {
  const pick = lbPolicyFor(0, mulberry32(7));
  assert.equal(pick(trackers(5, 1))?.dest, '10.0.0.2:8012');
  const counts = new Map<string, number>();
  const t = trackers(0, 0, 0, 100);
  for (let i = 0; i < 3000; i++) {
    const p = pick(t)!;
    counts.set(p.dest, (counts.get(p.dest) ?? 0) + 1);
  }
  // The two draws are distinct pods, so the loaded one always loses its comparison.
  assert.equal(counts.get('10.0.0.4:8012') ?? 0, 0);
  for (const d of ['10.0.0.1:8012', '10.0.0.2:8012', '10.0.0.3:8012']) assert.ok((counts.get(d) ?? 0) > 800, `${d}: ${counts.get(d)}`);
  assert.equal(pick([])?.dest, undefined);
});

test('excess burst capacity and the KPA mode with Knative defaults', () => {
  assert.equal(KNATIVE_TARGET_BURST_CAPACITY, 211);
  // The demo: 6 pods × containerConcurrency 2 − 211 → Proxy at any load.
  const ebc = excessBurstCapacity({ readyPods: 6, containerConcurrency: 2, targetBurstCapacity: 211, panicConcurrency: 0 });
  assert.equal(ebc, -199);
  assert.equal(kpaMode(6, ebc), 'Proxy');
  // containerConcurrency 0 counts as 100 per pod: 3 idle pods cover 211, 2 do not.
  assert.equal(
    kpaMode(3, excessBurstCapacity({ readyPods: 3, containerConcurrency: 0, targetBurstCapacity: 211, panicConcurrency: 0 })),
    'Serve',
  );
  assert.equal(
    kpaMode(2, excessBurstCapacity({ readyPods: 2, containerConcurrency: 0, targetBurstCapacity: 211, panicConcurrency: 0 })),
    'Proxy',
  );
  assert.equal(
    kpaMode(3, excessBurstCapacity({ readyPods: 3, containerConcurrency: 0, targetBurstCapacity: 211, panicConcurrency: 90 })),
    'Proxy',
  );
  // 0: the activator only at zero; −1: always.
  assert.equal(
    kpaMode(1, excessBurstCapacity({ readyPods: 1, containerConcurrency: 2, targetBurstCapacity: 0, panicConcurrency: 50 })),
    'Serve',
  );
  assert.equal(
    kpaMode(0, excessBurstCapacity({ readyPods: 0, containerConcurrency: 2, targetBurstCapacity: 0, panicConcurrency: 0 })),
    'Proxy',
  );
  assert.equal(
    kpaMode(50, excessBurstCapacity({ readyPods: 50, containerConcurrency: 0, targetBurstCapacity: -1, panicConcurrency: 0 })),
    'Proxy',
  );
});

test('public endpoints as the SKS reconciler writes them', () => {
  const ep = (address: string, ready = true): Endpoint => ({ address, port: 8012, node: 'n', ready, capacity: 2 });
  const pods = [ep('10.0.0.1'), ep('10.0.0.2')];
  const acts = [ep('10.0.9.1')];
  assert.deepEqual(publicEndpoints('Serve', pods, acts), pods);
  assert.deepEqual(publicEndpoints('Proxy', pods, acts), acts);
  // No ready pod forces Proxy; no ready activator forces Serve.
  assert.deepEqual(publicEndpoints('Serve', [ep('10.0.0.1', false)], acts), acts);
  assert.deepEqual(publicEndpoints('Proxy', pods, [ep('10.0.9.1', false)]), pods);
  const sks = emulatedServerlessService({ pods, activators: acts, containerConcurrency: 2, targetBurstCapacity: 0, panicConcurrency: 0 });
  assert.equal(sks.mode, 'Serve');
  assert.deepEqual(sks.publicEndpoints, pods);
});
