import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activatorVerdicts } from './activator-verdicts.js';
import type { PolicyResult } from './experiment.js';
import type { ScaleFromZeroResult } from './scale-from-zero.js';
import { aggregateSeeds, compareCells, type SeedRun } from './seeds.js';
import { setupLabelError } from './setups.js';
import type { LatencySummary } from './stats.js';

const summary = (meanMs: number, p95Ms: number, localShare: number): LatencySummary => ({
  requests: 100,
  errors: 0,
  dropped: 0,
  meanMs,
  p50Ms: meanMs,
  p95Ms,
  p99Ms: p95Ms,
  localShare,
  matrix: {},
  errorKinds: {},
});

function run(seed: number, bypassLocal: number, bypassMean: number): SeedRun {
  const comparison: PolicyResult[] = [
    { policy: 'even+public', levels: [5, 20].map((users) => ({ users, summary: summary(200 + seed, 400 + seed, 0.2), quantilesMs: [] })) },
    {
      policy: 'proxima',
      levels: [5, 20].map((users) => ({
        users,
        summary: summary(bypassMean + seed, 60 + seed, users === 5 ? bypassLocal : 0.6),
        quantilesMs: [],
      })),
    },
  ];
  return { seed, comparison };
}

const sfz = (ok: boolean, held: number): ScaleFromZeroResult => ({
  setup: 'proxima',
  gateway: 'edge-1',
  coldStartMs: 1000,
  first: { ok, latencyMs: 1100, servedBy: ok ? 'edge-1' : '', error: ok ? '' : 'DEADLINE_EXCEEDED' },
  heldByActivator: held,
  after: { requests: 30, errors: 0, localShare: 1, meanMs: 22 },
});

function verdictsFor(runs: SeedRun[], scale: Array<ScaleFromZeroResult | undefined>) {
  const cells = aggregateSeeds(runs);
  return activatorVerdicts(
    cells,
    compareCells(cells),
    runs.map((r, i) => ({ seed: r.seed, result: scale[i] })),
  );
}

test('activator verdicts: all three pass when every seed does', () => {
  const v = verdictsFor([run(1, 1, 30), run(2, 0.995, 30), run(3, 1, 30)], [sfz(true, 1), sfz(true, 1), sfz(true, 2)]);
  assert.deepEqual(
    v.map((x) => x.pass),
    [true, true, true],
  );
  assert.match(v[1]!.check, /proxima beats even\+public on mean and p95 at every level/);
});

test('activator verdicts: one seed below 99 % local, overlapping intervals, or a failed first request fail', () => {
  const v = verdictsFor([run(1, 1, 30), run(2, 0.97, 30), run(3, 1, 30)], [sfz(true, 1), sfz(false, 1), sfz(true, 0)]);
  assert.equal(v[0]!.pass, false);
  assert.match(v[0]!.detail, /below target: seeds 2/);
  assert.equal(v[2]!.pass, false);
  // Means that overlap the stock ones: no difference shown, so the claim fails.
  const close = verdictsFor([run(1, 1, 150), run(2, 1, 260), run(3, 1, 190)], [sfz(true, 1), sfz(true, 1), sfz(true, 1)]);
  assert.equal(close[1]!.pass, false);
  assert.match(close[1]!.detail, /mean no difference shown/);
  // A seed without a scale-from-zero result fails that verdict.
  assert.equal(verdictsFor([run(1, 1, 30), run(2, 1, 30)], [sfz(true, 1), undefined])[2]!.pass, false);
});

test('setup labels: +public needs --activator; unknown policies and modifiers are named', () => {
  const policies = ['even', 'proxima'];
  assert.equal(setupLabelError('proxima+public', policies, true), undefined);
  assert.match(setupLabelError('proxima+public', policies, false)!, /needs --activator/);
  assert.match(setupLabelError('fast', policies, true)!, /unknown policy "fast"/);
  assert.match(setupLabelError('proxima+turbo', policies, true)!, /unknown modifier "\+turbo"/);
  assert.match(setupLabelError('proxima+public+public', policies, true)!, /repeated/);
});
