/**
 * The KPA decider against Knative's own unit tests: knative/serving
 * `pkg/autoscaler/scaling/autoscaler_test.go` (test names kept in the case labels). Their fixture
 * `newTestAutoscaler(target, tbc)`: total = target / 0.75, panic threshold 2, scale-up and
 * scale-down rates 10, stable window 60 s, one ready pod, reachable. `expectedEBC` is theirs too;
 * like their `approxEquateInt32`, an EBC may differ by one from float rounding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KpaDecider, type ScaleResult } from './decider.js';
import type { DeciderSpec } from './config.js';

const STABLE_WINDOW_MS = 60_000;
const TARGET_UTILIZATION = 0.75;
const TICK_MS = 2000;

function spec(target: number, tbc: number, extra: Partial<DeciderSpec> = {}): DeciderSpec {
  return {
    targetValue: target,
    totalValue: target / TARGET_UTILIZATION,
    targetBurstCapacity: tbc,
    panicThreshold: 2,
    maxScaleUpRate: 10,
    maxScaleDownRate: 10,
    stableWindowMs: STABLE_WINDOW_MS,
    scaleDownDelayMs: 0,
    reachable: true,
    activationScale: 0,
    ...extra,
  };
}

function expectedEBC(totCap: number, targetBC: number, recorded: number, pods: number): number {
  return Math.floor((totCap / TARGET_UTILIZATION) * pods - targetBC - recorded);
}

/** A decider plus the test's mutable ready count and metric values (their fakePodCounter and metricClient). */
function harness(s: DeciderSpec, readyAtStart = 1) {
  const d = new KpaDecider(s, readyAtStart, 0, TICK_MS);
  const h = {
    d,
    ready: readyAtStart,
    stable: 0 as number | undefined,
    panic: 0 as number | undefined,
    set(stable: number, panic: number) {
      h.stable = stable;
      h.panic = panic;
    },
    expect(nowMs: number, desired: number, ebc?: number, label = '') {
      const r: ScaleResult = d.scale({ readyPods: h.ready, stableConcurrency: h.stable, panicConcurrency: h.panic }, nowMs);
      assert.equal(r.valid, true, `${label} valid`);
      assert.equal(r.desiredPods, desired, `${label} desired pods`);
      if (ebc !== undefined) assert.ok(Math.abs(r.excessBurstCapacity - ebc) <= 1, `${label} EBC ${r.excessBurstCapacity}, want ${ebc}`);
    },
  };
  return h;
}

test('TestAutoscalerScaleDownDelay (simple and gradual): the largest decision of the last 5 min holds', () => {
  const h = harness({ ...spec(10, 0), maxScaleDownRate: 10, maxScaleUpRate: 10, panicThreshold: 100, scaleDownDelayMs: 300_000 }, 0);
  const min = 60_000;
  h.set(40, 40);
  h.expect(2000, 4);
  h.set(0, 0);
  h.expect(5 * min, 4, undefined, 'five minutes at zero');
  h.expect(5 * min + 2000, 0, undefined, 'five minutes and 2 s');
  h.set(40, 40);
  h.expect(9 * min, 4);
  h.set(30, 30);
  h.expect(10 * min, 4, undefined, '4 still dominates');
  h.set(0, 0);
  h.expect(11 * min, 4);
  h.expect(14 * min, 3, undefined, '4 scrolls out');
  h.expect(15 * min, 0, undefined, 'everything scrolled out');
});

test('TestAutoscalerScaleDownDelayNotReachable: an unreachable revision is not delayed', () => {
  const base = { ...spec(10, 0), panicThreshold: 100, scaleDownDelayMs: 300_000 };
  const h = harness(base, 0);
  h.set(40, 40);
  h.expect(2000, 4);
  h.set(0, 0);
  h.expect(60_000, 4);
  h.d.update({ ...base, reachable: false });
  h.expect(2000, 0);
});

test('TestAutoscalerScaleDownDelayZero: no delay scales down at once', () => {
  const h = harness({ ...spec(10, 0), panicThreshold: 100 }, 0);
  h.set(40, 40);
  h.expect(0, 4);
  h.set(20, 20);
  h.expect(500, 2);
});

test('TestAutoscalerNoDataNoAutoscale: no metrics, no decision', () => {
  const d = new KpaDecider(spec(10, 100), 1, 0, TICK_MS);
  const r = d.scale({ readyPods: 1, stableConcurrency: undefined, panicConcurrency: undefined }, 0);
  assert.deepEqual(r, { desiredPods: 0, excessBurstCapacity: 0, valid: false, panicking: false });
});

test('TestAutoscalerStableModeIncreaseWithConcurrencyDefault', () => {
  const h = harness(spec(10, 101));
  h.set(50, 10);
  h.expect(0, 5, expectedEBC(10, 101, 10, 1));
  h.set(100, 10);
  h.expect(0, 10, expectedEBC(10, 101, 10, 1));
});

test('TestAutoscalerUnpanicAfterSlowIncrease: panic ends a stable window after it began', () => {
  const h = harness(spec(1, 98));
  h.set(11, 25);
  h.ready = 10;
  const start = 1_000_000;
  h.expect(start, 25, expectedEBC(1, 98, 25, 10));
  assert.equal(h.d.panicking, true);
  h.ready = 40;
  h.set(30, 41);
  h.expect(start + STABLE_WINDOW_MS / 2, 41, expectedEBC(1, 98, 41, 40));
  h.ready = 55;
  h.set(50, 56);
  h.expect(start + STABLE_WINDOW_MS + TICK_MS, 50, expectedEBC(1, 98, 56, 55), 'no longer in panic');
  assert.equal(h.d.panicking, false);
});

test('TestAutoscalerExtendPanicWindow: still surging keeps panicking', () => {
  const h = harness(spec(1, 98));
  h.set(11, 25);
  h.ready = 10;
  h.expect(0, 25, expectedEBC(1, 98, 25, 10));
  h.ready = 40;
  h.set(30, 80);
  h.expect(STABLE_WINDOW_MS / 2, 80, expectedEBC(1, 98, 80, 40));
  assert.equal(h.d.panicking, true);
});

test('TestAutoscalerStableModeDecrease', () => {
  const h = harness(spec(10, 98));
  h.ready = 8;
  h.set(100, 100);
  h.expect(0, 10, expectedEBC(10, 98, 100, 8));
  h.set(50, 50);
  h.expect(0, 5, expectedEBC(10, 98, 50, 8));
});

test('TestAutoscalerStableModeNoTrafficScaleToZero', () => {
  const h = harness(spec(10, 75));
  h.set(1, 0);
  h.expect(0, 1, expectedEBC(10, 75, 0, 1));
  h.set(0, 0);
  h.expect(0, 0, expectedEBC(10, 75, 0, 1));
});

test('TestAutoscalerActivationScale', () => {
  const h = harness(spec(10, 75, { activationScale: 2 }));
  h.set(0, 0);
  h.expect(0, 0);
  h.set(1, 0);
  h.expect(0, 2);
});

test('TestAutoscalerPanicModeExponentialTrackAndStabilize', () => {
  const h = harness(spec(1, 101));
  h.set(6, 6);
  h.expect(0, 6, expectedEBC(1, 101, 6, 1));
  h.ready = 6;
  h.set(36, 36);
  h.expect(1000, 36, expectedEBC(1, 101, 36, 6));
  h.ready = 36;
  h.set(216, 216);
  h.expect(2000, 216, expectedEBC(1, 101, 216, 36));
  h.ready = 216;
  h.set(1296, 1296);
  h.expect(2000, 1296, expectedEBC(1, 101, 1296, 216));
  h.ready = 1296;
  h.expect(3000, 1296, expectedEBC(1, 101, 1296, 1296));
});

test('TestAutoscalerScale (table)', async (t) => {
  const cases: Array<{
    label: string;
    s: DeciderSpec;
    stable: number;
    panic: number;
    ready: number;
    prep?: (d: KpaDecider, nowMs: number) => void;
    want: number;
    ebc: number;
  }> = [
    {
      label: 'AutoscalerNoDataAtZeroNoAutoscale',
      s: spec(10, 100),
      stable: 0,
      panic: 0,
      ready: 1,
      want: 0,
      ebc: expectedEBC(10, 100, 0, 1),
    },
    { label: 'AutoscalerStableModeUnlimitedTBC', s: spec(181, -1), stable: 21, panic: 26, ready: 1, want: 1, ebc: -1 },
    { label: 'Autoscaler0TBC', s: spec(10, 0), stable: 50, panic: 49, ready: 1, want: 5, ebc: 0 },
    { label: 'AutoscalerStableModeNoChange', s: spec(10, 100), stable: 50, panic: 50, ready: 1, want: 5, ebc: expectedEBC(10, 100, 50, 1) },
    {
      label: 'AutoscalerPanicStableLargerThanPanic (stable value used)',
      s: spec(1, 100),
      stable: 50,
      panic: 30,
      ready: 5,
      prep: (d, now) => void d.scale({ readyPods: 1, stableConcurrency: 5, panicConcurrency: 5 }, now - 5000),
      want: 50,
      ebc: expectedEBC(1, 100, 30, 5),
    },
    {
      label: 'AutoscalerPanicStableLessThanPanic (panic value used)',
      s: spec(1, 100),
      stable: 20,
      panic: 30,
      ready: 5,
      prep: (d, now) => void d.scale({ readyPods: 1, stableConcurrency: 5, panicConcurrency: 5 }, now - 5000),
      want: 30,
      ebc: expectedEBC(1, 100, 30, 5),
    },
    {
      label: 'AutoscalerStableModeNoChangeAlreadyScaled',
      s: spec(10, 100),
      stable: 50,
      panic: 50,
      ready: 5,
      want: 5,
      ebc: expectedEBC(10, 100, 50, 5),
    },
    {
      label: 'AutoscalerStableModeIncreaseWithSmallScaleUpRate',
      s: spec(1, 1982, { maxScaleUpRate: 1.1 }),
      stable: 3,
      panic: 3.1,
      ready: 2,
      want: 3,
      ebc: expectedEBC(1, 1982, 3.1, 2),
    },
    {
      label: 'AutoscalerStableModeDecreaseWithSmallScaleDownRate',
      s: spec(10, 1982, { maxScaleDownRate: 1.1 }),
      stable: 1,
      panic: 1,
      ready: 100,
      want: 90,
      ebc: expectedEBC(10, 1982, 1, 100),
    },
    {
      label: 'AutoscalerStableModeDecreaseNonReachable',
      s: spec(10, 1982, { maxScaleDownRate: 1.1, reachable: false }),
      stable: 1,
      panic: 1,
      ready: 100,
      want: 1,
      ebc: expectedEBC(10, 1982, 1, 100),
    },
    {
      label: 'AutoscalerPanicModeDoublePodCount (panic concurrency wins)',
      s: spec(10, 84),
      stable: 50,
      panic: 100,
      ready: 1,
      want: 10,
      ebc: expectedEBC(10, 84, 100, 1),
    },
  ];
  for (const c of cases) {
    await t.test(c.label, () => {
      const now = 100_000;
      // Their prepFunc sets panicTime 5 s ago and maxPanicPods 5; here a real over-threshold tick 5 s ago does that.
      const d = new KpaDecider(c.s, 1, 0, TICK_MS);
      c.prep?.(d, now);
      const r = d.scale({ readyPods: c.ready, stableConcurrency: c.stable, panicConcurrency: c.panic }, now);
      assert.equal(r.desiredPods, c.want);
      assert.ok(Math.abs(r.excessBurstCapacity - c.ebc) <= 1, `EBC ${r.excessBurstCapacity}, want ${c.ebc}`);
    });
  }
});

test('TestAutoscalerPanicThenUnPanicScaleDown: no scale-down while panicking, then down after the stable window', () => {
  const h = harness(spec(10, 93));
  h.set(100, 100);
  const t0 = 1_000_000;
  h.expect(t0, 10, expectedEBC(10, 93, 100, 1));
  h.ready = 10;
  h.set(100, 1000);
  h.expect(t0, 100, expectedEBC(10, 93, 1000, 10));
  h.set(1, 1);
  h.expect(t0 + 30_000, 100, expectedEBC(10, 93, 1, 10), 'still in panic');
  h.expect(t0 + 61_000, 1, expectedEBC(10, 93, 1, 10), 'after the stable window');
});

test('TestAutoscalerRateLimitScaleUp and TestAutoscalerRateLimitScaleDown', () => {
  const up = harness(spec(10, 61));
  up.set(1000, 1001);
  up.expect(0, 10, expectedEBC(10, 61, 1001, 1), 'only x10');
  up.ready = 10;
  up.expect(0, 100, expectedEBC(10, 61, 1001, 10), 'x10 again');
  const down = harness(spec(10, 61));
  down.set(1, 1);
  down.ready = 100;
  down.expect(0, 10, expectedEBC(10, 61, 1, 100), 'only ÷10');
  down.ready = 10;
  down.expect(0, 1, expectedEBC(10, 61, 1, 10), '÷10 again');
});

test('TestAutoscalerUseOnePodAsMinimumIfEndpointsNotFound', () => {
  const h = harness(spec(10, 81));
  h.set(1000, 888);
  h.ready = 0;
  h.expect(0, 10, expectedEBC(10, 81, 888, 0));
});

test('TestStartInPanicMode: created at 0 or 1 pods calm, at 2 panicking', () => {
  const s = { ...spec(100, 11), totalValue: 120, panicThreshold: 2.2 };
  for (const ready of [0, 1]) assert.equal(new KpaDecider(s, ready, 0, TICK_MS).panicking, false);
  const d = new KpaDecider(s, 2, 0, TICK_MS);
  assert.equal(d.panicking, true);
  // It holds the 2 pods it started with while panicking, even with no load.
  assert.equal(d.scale({ readyPods: 2, stableConcurrency: 0, panicConcurrency: 0 }, 1000).desiredPods, 2);
});
