import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOraclePolicy, expectedResponseMs, sharesOf } from './oracle.js';
import { makeInput } from './testing.js';

test('oracle: matches a brute-force grid search (2 gateways × 2 nodes)', () => {
  const cases = [
    { demand: { a: 60, b: 50 }, cv2: 1 },
    { demand: { a: 90, b: 20 }, cv2: 0.3 },
    { demand: { a: 20, b: 150 }, cv2: 1 },
  ];
  for (const c of cases) {
    const input = makeInput({
      gateways: ['a', 'b'],
      backends: { a: [1, 2], cloud: [2, 4] },
      rtt: { 'a>b': 15, 'a>cloud': 30, 'b>cloud': 50 },
      serviceTimeMs: 20,
      demandRps: c.demand,
    });
    let best = Infinity;
    const steps = 400;
    for (let i = 0; i <= steps; i++) {
      for (let j = 0; j <= steps; j++) {
        const shares = new Map([
          [
            'a',
            new Map([
              ['a', i / steps],
              ['cloud', 1 - i / steps],
            ]),
          ],
          [
            'b',
            new Map([
              ['a', j / steps],
              ['cloud', 1 - j / steps],
            ]),
          ],
        ]);
        best = Math.min(best, expectedResponseMs(input, shares, c.cv2));
      }
    }
    const got = expectedResponseMs(input, sharesOf(createOraclePolicy({ serviceCv2: c.cv2 }).assign(input)), c.cv2);
    assert.ok(Number.isFinite(best));
    assert.ok(Math.abs(got - best) <= best * 0.003, `${JSON.stringify(c)}: oracle ${got.toFixed(3)} ms vs grid ${best.toFixed(3)} ms`);
  }
});
