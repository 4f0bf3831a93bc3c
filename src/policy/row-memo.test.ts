import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faastPolicy } from './faast.js';
import { nearestPolicy } from './nearest.js';
import { makeInput } from './testing.js';
import { RowMemo } from './row-memo.js';
import type { Policy, PolicyInput } from './types.js';
import { reasonText } from './reason.js';

// Two sites of three nodes; backends in both; g-a2/g-a3 and g-b2/g-b3 see identical rows, so the
// per-row memo answers them; a gateway alone in `gateways` never hits the memo.
const nodes = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'];
const rtt: Record<string, number> = {};
for (const x of nodes) for (const y of nodes) if (x < y) rtt[`${x}>${y}`] = x[0] === y[0] ? 2 : 40;
const input = (extra: Partial<Parameters<typeof makeInput>[0]> = {}): PolicyInput =>
  makeInput({
    gateways: nodes,
    backends: { a1: [2, 20], b1: [1, 10], b2: [3, 30] },
    rtt,
    serviceTimeMs: { a1: 5, b1: 12, b2: 7 },
    ...extra,
  });

function alone(policy: Policy, whole: PolicyInput, gateway: string) {
  return policy.assign({ ...whole, gateways: [gateway] }).get(gateway);
}

for (const policy of [nearestPolicy, faastPolicy]) {
  test(`${policy.name}: gateways with equal latency rows get exactly what each would get alone`, () => {
    for (const whole of [input(), input({ unreachable: ['a2>b1', 'a3>b1'] }), input({ backends: {} })]) {
      const all = policy.assign(whole);
      assert.equal(all.size, nodes.length);
      for (const g of nodes) assert.deepEqual(all.get(g), alone(policy, whole, g), `${policy.name} ${g}`);
    }
  });
}

test('nearest: the memo never labels another gateway "local"', () => {
  // a1 and a2 have the same row when a1→a2 is local-fast, but only a1 is local to itself.
  const whole = makeInput({ gateways: ['a1', 'a2'], backends: { a1: [1, 10] }, rtt: { 'a1>a2': 0.2 } });
  const all = nearestPolicy.assign(whole);
  assert.match(reasonText(all.get('a1')!.reason), /\(local\)/);
  assert.doesNotMatch(reasonText(all.get('a2')!.reason), /\(local\)/);
  assert.deepEqual(all.get('a2'), alone(nearestPolicy, whole, 'a2'));
});

test('an adaptive row memo gives up after 64 lookups with fewer than one hit in 8; a plain one never does', () => {
  // 100 gateways, each with a row of its own (distinct RTTs to the backend), and the last two
  // repeating rows seen before: the memo finds them only while it is still active.
  const gateways = Array.from({ length: 100 }, (_, i) => `g${String(i).padStart(3, '0')}`);
  const rtt: Record<string, number> = {};
  gateways.forEach((g, i) => (rtt[`${g}>b`] = i < 98 ? 10 + i : 10 + (i - 98)));
  const spread = makeInput({ gateways, backends: { b: [1, 10] }, rtt });
  for (const adaptive of [true, false]) {
    const memo = new RowMemo<number>(spread, adaptive);
    spread.gateways.forEach((g, i) => {
      const row = memo.row(g);
      if (memo.get(row) === undefined) memo.set(row, i);
    });
    assert.equal(memo.active, !adaptive);
    assert.equal(memo.get(memo.row('g098')), adaptive ? undefined : 0);
  }
  // Repeating rows keep it active.
  const zoned = makeInput({
    gateways,
    backends: { b: [1, 10] },
    rtt: Object.fromEntries(gateways.map((g, i) => [`${g}>b`, 10 + (i % 4)])),
  });
  const memo = new RowMemo<number>(zoned, true);
  zoned.gateways.forEach((g, i) => {
    const row = memo.row(g);
    if (memo.get(row) === undefined) memo.set(row, i);
  });
  assert.equal(memo.active, true);
  // A memo that gave up changes no result: every gateway gets what it would get alone.
  for (const policy of [nearestPolicy, faastPolicy]) {
    const all = policy.assign(spread);
    for (const g of ['g000', 'g097', 'g098', 'g099']) assert.deepEqual(all.get(g), alone(policy, spread, g), `${policy.name} ${g}`);
  }
});
