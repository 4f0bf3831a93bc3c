import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyTable } from './latency-table.js';
import { makeInput } from './testing.js';
import type { PolicyInput } from './types.js';

function rowOf(table: LatencyTable, gateway: string): Array<[number, number]> {
  const at = table.offsetOf(gateway);
  return table.backends.map((_, j) => [table.rttMs[at + j]!, table.reachable[at + j]!]);
}

function expected(input: PolicyInput, gateway: string): Array<[number, number]> {
  return input.backends.map((b) => [input.rttMs(gateway, b.node), input.reachable(gateway, b.node) ? 1 : 0]);
}

test('LatencyTable: a table still in use after a newer one took the shared arrays reads its own input, not the newer one', () => {
  const a = makeInput({
    gateways: ['a1', 'a2'],
    backends: { a1: [1, 1], cloud: [2, 2] },
    rtt: { 'a1>cloud': 30, 'a2>cloud': 40 },
    unreachable: ['a2>a1'],
  });
  const b = makeInput({ gateways: ['b1', 'b2', 'b3'], backends: { b1: [1, 1], b2: [1, 1], far: [1, 1] }, defaultRttMs: 90 });
  const first = new LatencyTable(a, a.backends);
  assert.deepEqual(rowOf(first, 'a2'), expected(a, 'a2'));
  const second = new LatencyTable(b, b.backends);
  assert.deepEqual(rowOf(second, 'b3'), expected(b, 'b3'));
  for (const g of a.gateways) assert.deepEqual(rowOf(first, g), expected(a, g), `first table, ${g}`);
  for (const g of b.gateways) assert.deepEqual(rowOf(second, g), expected(b, g), `second table, ${g}`);
  assert.equal(first.offsetOf('nobody'), -1);
});
