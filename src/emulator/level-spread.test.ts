import assert from 'node:assert/strict';
import { test } from 'node:test';
import { levelSpread } from './level-spread.js';

test('level spread: one run per seed of the simulated demo cell; the spread of the mean over seeds and the swing period', () => {
  const rows = levelSpread({ policy: 'faast', users: [25], levelsS: [30], seeds: 3, warmupS: 30 });
  assert.equal(rows.length, 1);
  const r = rows[0]!;
  assert.deepEqual([r.users, r.levelS, r.seeds], [25, 30, 3]);
  // FaaSt's weights swing with its 10 s window: the seeds disagree, and the period is a window or two.
  assert.ok(r.meanCv > 0.02 && r.meanCv < 1, `cv ${r.meanCv}`);
  assert.ok(r.periodS >= 8 && r.periodS <= 24, `period ${r.periodS}`);
  // Deterministic for the same seeds.
  assert.deepEqual(levelSpread({ policy: 'faast', users: [25], levelsS: [30], seeds: 3, warmupS: 30 }), rows);
  // A policy that does not feed back on its queueing holds its weights: no period.
  assert.ok(Number.isNaN(levelSpread({ policy: 'nearest', users: [25], levelsS: [30], seeds: 2, warmupS: 30 })[0]!.periodS));
});
