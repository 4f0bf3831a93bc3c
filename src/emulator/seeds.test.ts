import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyResult } from './experiment.js';
import { aggregateSeeds, compareCells, comparisonOf, parseSeedList, seedTable, type SeedRun } from './seeds.js';
import type { LatencySummary } from './stats.js';

function summary(meanMs: number, p95Ms: number, localShare: number, errors = 0): LatencySummary {
  return {
    requests: 100,
    errors,
    dropped: 0,
    meanMs,
    p50Ms: meanMs - 1,
    p95Ms,
    p99Ms: p95Ms + 10,
    localShare,
    matrix: {},
    errorKinds: {},
  };
}

function run(seed: number, cells: Record<string, Array<[number, LatencySummary]>>): SeedRun {
  const comparison: PolicyResult[] = Object.entries(cells).map(([policy, levels]) => ({
    policy,
    levels: levels.map(([users, s]) => ({ users, summary: s, quantilesMs: [] })),
  }));
  return { seed, comparison };
}

test('parseSeedList: ranges, lists, and clear errors', () => {
  assert.deepEqual(parseSeedList('1-5'), { ok: true, seeds: [1, 2, 3, 4, 5] });
  assert.deepEqual(parseSeedList('1,2, 3'), { ok: true, seeds: [1, 2, 3] });
  assert.deepEqual(parseSeedList('1-3,7'), { ok: true, seeds: [1, 2, 3, 7] });
  assert.deepEqual(parseSeedList('4'), { ok: true, seeds: [4] });
  for (const [text, message] of [
    ['5-1', /backwards/],
    ['1,1', /twice/],
    ['1-3,2', /twice/],
    ['a', /not a seed/],
    ['', /not a seed/],
    ['-2', /not a seed/],
    ['1-1000', /at most 50/],
  ] as const) {
    const r = parseSeedList(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.error, message, text);
  }
});

test('aggregateSeeds: every cell as mean ± Student t interval over the seeds that measured it', () => {
  const runs = [
    run(1, { even: [[5, summary(40, 90, 0.2)]], proxima: [[5, summary(10, 20, 1, 1)]] }),
    run(2, { even: [[5, summary(44, 94, 0.3)]], proxima: [[5, summary(11, 21, 0.99)]] }),
    run(3, { even: [[5, summary(42, 92, 0.1)]], proxima: [[5, summary(12, 22, 0.98, 2)]] }),
  ];
  const cells = aggregateSeeds(runs);
  assert.deepEqual(
    cells.map((c) => `${c.policy}@${c.users}`),
    ['even@5', 'proxima@5'],
  );
  const proxima = cells[1]!;
  assert.deepEqual(proxima.seeds, [1, 2, 3]);
  assert.equal(proxima.meanMs.mean, 11);
  // s = 1, t(2) = 4.303 → 4.303 / sqrt(3)
  assert.ok(Math.abs(proxima.meanMs.halfWidth - 4.303 / Math.sqrt(3)) < 1e-9);
  assert.equal(proxima.p50Ms.mean, 10);
  assert.equal(proxima.p99Ms.mean, 31);
  assert.ok(Math.abs(proxima.localShare.mean - 0.99) < 1e-12);
  assert.deepEqual(proxima.errorsPerSeed, [1, 0, 2]);
  assert.equal(proxima.requests, 300);

  const [pair] = compareCells(cells);
  assert.equal(pair!.a, 'even');
  assert.equal(pair!.mean, 'higher');
  assert.equal(pair!.p95, 'higher');
  const flipped = comparisonOf(compareCells(cells), 'proxima', 'even', 5)!;
  assert.equal(flipped.mean, 'lower');
  assert.equal(flipped.p95, 'lower');
  assert.equal(comparisonOf(compareCells(cells), 'proxima', 'even', 25), undefined);

  const table = seedTable(cells, 10);
  assert.match(table, /\| proxima \| 5 +\| 50 +\| 3 +\| 11\.0 ± 2\.5 \|/);
  assert.match(table, /99\.0 ± 2\.5/);
});

test('aggregateSeeds: overlapping intervals show no difference; one seed shows none either', () => {
  const noisy = [
    run(1, { a: [[5, summary(10, 30, 1)]], b: [[5, summary(12, 20, 1)]] }),
    run(2, { a: [[5, summary(14, 10, 1)]], b: [[5, summary(11, 40, 1)]] }),
  ];
  const [c] = compareCells(aggregateSeeds(noisy));
  assert.equal(c!.mean, 'no difference shown');
  assert.equal(c!.p95, 'no difference shown');

  const single = aggregateSeeds([run(7, { a: [[5, summary(10, 20, 1)]], b: [[5, summary(100, 200, 0)]] })]);
  assert.equal(single[0]!.meanMs.n, 1);
  assert.equal(compareCells(single)[0]!.mean, 'no difference shown');
  assert.match(seedTable(single, 10), /\| a +\| 5 +\| 50 +\| 1 +\| 10\.0 +\|/);
});

test('aggregateSeeds: a cell missing from one seed aggregates over the seeds that have it', () => {
  const runs = [
    run(1, { a: [[5, summary(10, 20, 1)]] }),
    run(2, {
      a: [
        [5, summary(12, 20, 1)],
        [25, summary(30, 60, 0.5)],
      ],
    }),
  ];
  const cells = aggregateSeeds(runs);
  assert.deepEqual(
    cells.map((c) => [c.users, c.seeds]),
    [
      [5, [1, 2]],
      [25, [2]],
    ],
  );
});
