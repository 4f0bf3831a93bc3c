import assert from 'node:assert/strict';
import { test } from 'node:test';
import { erlangC, meanSojournMs, meanWaitMs, saturationRps, serviceTimeFromObservedMs } from './queueing.js';

test('erlangC: textbook values', () => {
  // M/M/1: P(wait) = ρ. M/M/2 at a = 1 erlang: 1/3.
  assert.ok(Math.abs(erlangC(1, 0.5) - 0.5) < 1e-12);
  assert.ok(Math.abs(erlangC(2, 1) - 1 / 3) < 1e-12);
  assert.equal(erlangC(3, 3), 1);
  assert.equal(erlangC(3, 0), 0);
});

test('meanWaitMs: M/M/1 closed form, saturation is infinite, cv² scales the wait', () => {
  const m = { pods: 1, slotsPerPod: 1, serviceTimeMs: 10, serviceCv2: 1 };
  // λ = 50/s, S = 10 ms → ρ = 0.5, Wq = ρ/(1-ρ)·S = 10 ms.
  assert.ok(Math.abs(meanWaitMs(m, 50) - 10) < 1e-9);
  assert.equal(saturationRps(m), 100);
  assert.equal(meanWaitMs(m, 100), Infinity);
  assert.ok(Math.abs(meanWaitMs({ ...m, serviceCv2: 0 }, 50) - 5) < 1e-9);
  // Two pods split the load: each at ρ = 0.5.
  assert.ok(Math.abs(meanWaitMs({ ...m, pods: 2 }, 100) - 10) < 1e-9);
});

test('serviceTimeFromObservedMs inverts meanSojournMs', () => {
  const shape = { pods: 2, slotsPerPod: 3, serviceCv2: 0.5 };
  for (const [s, rps] of [
    [15, 300],
    [8, 10],
    [20, 250],
  ] as const) {
    const observed = meanSojournMs({ ...shape, serviceTimeMs: s }, rps);
    assert.ok(Math.abs(serviceTimeFromObservedMs(shape, observed, rps) - s) < 1e-6, `${s} ms at ${rps} rps`);
  }
  assert.equal(serviceTimeFromObservedMs(shape, 12, 0), 12);
});
