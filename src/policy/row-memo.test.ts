import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faastPolicy } from './faast.js';
import { nearestPolicy } from './nearest.js';
import { makeInput } from './testing.js';
import type { Policy, PolicyInput } from './types.js';

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
  assert.match(all.get('a1')!.reason, /\(local\)/);
  assert.doesNotMatch(all.get('a2')!.reason, /\(local\)/);
  assert.deepEqual(all.get('a2'), alone(nearestPolicy, whole, 'a2'));
});
