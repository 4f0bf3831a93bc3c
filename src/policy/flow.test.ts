import assert from 'node:assert/strict';
import { test } from 'node:test';
import { segmentsFromCurve, solveTransport } from './flow.js';

test('solveTransport: finds the optimum where a cheapest-cell greedy does not', () => {
  // Greedy takes A→X (cost 0) first, leaving B→Y at 100: total 100. Optimum: A→Y 50 + B→X 10 = 60.
  const sol = solveTransport({
    demandRps: [1, 1],
    linkCostMs: [
      [0, 50],
      [10, 100],
    ],
    nodeSegments: [[{ capacityRps: 1, costMs: 0 }], [{ capacityRps: 5, costMs: 0 }]],
  });
  assert.ok(Math.abs(sol.totalCost - 60) < 1e-9, `cost ${sol.totalCost}`);
  assert.deepEqual(sol.flowRps, [
    [0, 1],
    [1, 0],
  ]);
  assert.equal(sol.unassignedRps, 0);
});

test('solveTransport: convex segments fill cheapest first, forbidden links and stranded demand', () => {
  const sol = solveTransport({
    demandRps: [10, 3],
    linkCostMs: [
      [0, 5],
      [Infinity, Infinity],
    ],
    nodeSegments: [
      [
        { capacityRps: 4, costMs: 1 },
        { capacityRps: 4, costMs: 10 },
        { capacityRps: Infinity, costMs: 100 },
      ],
      [{ capacityRps: Infinity, costMs: 2 }],
    ],
  });
  // 4 at cost 1 on node 0; beyond that node 1 (5 + 2 = 7) beats node 0's second segment (10).
  assert.deepEqual(sol.flowRps[0], [4, 6]);
  assert.equal(sol.unassignedRps, 3);
  assert.ok(Math.abs(sol.totalCost - (4 * 1 + 6 * 7)) < 1e-9);
});

test('segmentsFromCurve: average marginal cost per span, non-decreasing', () => {
  const segs = segmentsFromCurve([1, 2, 4], (x) => x * x);
  assert.deepEqual(segs, [
    { capacityRps: 1, costMs: 1 },
    { capacityRps: 1, costMs: 3 },
    { capacityRps: 2, costMs: 6 },
  ]);
});

test('solveTransport: a guess is accepted only when it is optimal (random cases vs a full solve)', () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  let accepted = 0;
  for (let k = 0; k < 300; k++) {
    const G = 2 + Math.floor(rand() * 3);
    const N = 2 + Math.floor(rand() * 3);
    const demandRps = Array.from({ length: G }, () => (rand() < 0.2 ? 0 : rand() * 100));
    const linkCostMs = Array.from({ length: G }, (_, g) =>
      Array.from({ length: N }, (_, n) => (g === n ? 0.2 : rand() < 0.1 ? Infinity : 5 + rand() * 80)),
    );
    const nodeSegments = Array.from({ length: N }, () => {
      let cost = 5 + rand() * 10;
      const segs = Array.from({ length: 4 }, () => ({ capacityRps: 10 + rand() * 40, costMs: (cost += rand() * 30) }));
      return [...segs, { capacityRps: Infinity, costMs: cost + 1e6 }];
    });
    const guess = Array.from({ length: G }, (_, g) => (g < N ? g : Math.floor(rand() * N)));
    const full = solveTransport({ demandRps, linkCostMs, nodeSegments });
    const guessed = solveTransport({ demandRps, linkCostMs, nodeSegments, guess });
    if (full.unassignedRps > 0) continue;
    const sameFlows = guessed.flowRps.every((row, g) => row.every((x, n) => x === (guess[g] === n ? demandRps[g] : 0)));
    if (sameFlows) accepted++;
    assert.ok(
      Math.abs(guessed.totalCost - full.totalCost) <= 1e-6 * Math.max(1, full.totalCost),
      `case ${k}: ${guessed.totalCost} vs ${full.totalCost}`,
    );
  }
  assert.ok(accepted > 20, `guess accepted ${accepted} times`);
});
