import assert from 'node:assert/strict';
import test from 'node:test';
import { describeResolution, ratioResolution } from './ratio-resolution.js';

test('ratio resolution: the simulated runs spread sets how narrow 5 seeds can resolve the ratio', () => {
  // Each seed's replications: mean 100, sample sd 15 (cv 0.15); pooled over seeds.
  const spread = [85, 100, 115];
  const r = ratioResolution([spread, spread.map((x) => x * 2)], 5, 0.15, 120_000)!;
  assert.ok(Math.abs(r.cv - 0.15) < 1e-9, `${r.cv}`);
  // t(4) = 2.776: 2.776 × 0.15 / √5 = 0.186, wider than ±0.15.
  assert.ok(Math.abs(r.floor - (2.776 * 0.15) / Math.sqrt(5)) < 1e-9);
  assert.equal(r.undecidable, true);
  // Half the band (0.075) needs (0.186 / 0.075)² × 120 s = 740 s.
  assert.equal(r.levelSecondsForHalfBand, Math.ceil(120 * (r.floor / 0.075) ** 2));
  assert.match(
    describeResolution('the mean', r, 5, 120_000),
    /own 120 s runs vary the mean by cv 0\.15, so 5 seeds of such runs give ±0\.19, wider than the ±0\.15 band: not decidable at this level length \(≥ 740 s levels/,
  );
  // A tight simulator: decidable, and said without the "not decidable" clause.
  const tight = ratioResolution([[99, 100, 101]], 5, 0.15, 120_000)!;
  assert.equal(tight.undecidable, false);
  assert.doesNotMatch(describeResolution('the mean', tight, 5, 120_000), /not decidable/);
  // More seeds narrow the floor.
  assert.ok(ratioResolution([spread], 10, 0.15, 120_000)!.floor < r.floor);
});

test('ratio resolution: nothing to say without spread or seeds; non-finite values are skipped', () => {
  assert.equal(ratioResolution([[100], []], 5, 0.15, 120_000), undefined);
  assert.equal(ratioResolution([[90, 110]], 1, 0.15, 120_000), undefined);
  assert.equal(ratioResolution([[90, 110]], 5, 0.15, 0), undefined);
  const r = ratioResolution([[90, Number.NaN, 110], [100]], 5, 0.15, 60_000)!;
  assert.ok(Math.abs(r.cv - Math.sqrt(200) / 100) < 1e-9);
});
