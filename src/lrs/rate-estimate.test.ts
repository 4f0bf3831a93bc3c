import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMAND_STEP_REPORTS, RateEstimate } from './rate-estimate.js';
import { exponential, streamFor, type Rng } from '../util/rng.js';

/** Arrivals of a Poisson stream at `rps` within one report of `ms`. */
function poissonCount(rng: Rng, rps: number, ms: number): number {
  let n = 0;
  for (let t = exponential(rng, 1000 / rps); t < ms; t += exponential(rng, 1000 / rps)) n++;
  return n;
}

test('steady Poisson demand: the estimate is the long mean, far steadier than one report, and never restarts', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = streamFor(seed, 'rate');
    const e = new RateEstimate({ windowMs: 30_000 });
    const after: number[] = [];
    for (let i = 0; i < 600; i++) {
      const v = e.observe(poissonCount(rng, 50, 1000), 1000)!;
      if (i >= 30) after.push(v);
    }
    const sd = Math.sqrt(after.reduce((s, v) => s + (v - 50) ** 2, 0) / after.length);
    // One 1 s report has sd √50 ≈ 7.1 requests/s; an EWMA of 30 s has about √(50/60) ≈ 0.9.
    assert.ok(sd < 1.5, `seed ${seed}: estimate sd ${sd.toFixed(2)} rps`);
    assert.ok(e.restarts <= 1, `seed ${seed}: ${e.restarts} restarts on steady demand`);
  }
});

test('a real step is followed at once: doubling and halving within DEMAND_STEP_REPORTS reports, a 20 % rise within twenty', () => {
  const cases = [
    { from: 50, to: 100, ms: 1000, within: DEMAND_STEP_REPORTS },
    { from: 50, to: 25, ms: 1000, within: DEMAND_STEP_REPORTS },
    // The closed-loop demo's step at edge-1 (15 → 50 requests/s and back) over 0.5 s reports.
    { from: 15, to: 50, ms: 500, within: DEMAND_STEP_REPORTS },
    // At 7.5 requests per report a fall is less certain per report: one more.
    { from: 50, to: 15, ms: 500, within: DEMAND_STEP_REPORTS + 1 },
    { from: 50, to: 60, ms: 1000, within: 20 },
  ];
  for (const c of cases)
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = streamFor(seed, 'step');
      const e = new RateEstimate({ windowMs: 30 * c.ms });
      for (let i = 0; i < 40; i++) e.observe(poissonCount(rng, c.from, c.ms), c.ms);
      let reports = 0;
      while (reports < 50) {
        reports++;
        const v = e.observe(poissonCount(rng, c.to, c.ms), c.ms)!;
        // More than half-way to the new rate.
        if (Math.abs(v - c.to) < 0.5 * Math.abs(c.to - c.from)) break;
      }
      assert.ok(reports <= c.within, `seed ${seed}: ${c.from} → ${c.to} rps over ${c.ms} ms reports took ${reports} reports`);
    }
});

test('no reports, zero-length or negative input change nothing', () => {
  const e = new RateEstimate({ windowMs: 10_000 });
  assert.equal(e.observe(5, 0), undefined);
  assert.equal(e.observe(-1, 1000), undefined);
  assert.equal(e.observe(Number.NaN, 1000), undefined);
  assert.equal(e.observe(10, 1000), 10);
  assert.equal(e.observe(10, 0), 10);
  assert.throws(() => new RateEstimate({ windowMs: 0 }), RangeError);
});
