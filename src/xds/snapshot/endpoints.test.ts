import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GatewayAssignment, LocalityAssignment } from '../../policy/types.js';
import { mulberry32 } from '../../util/rng.js';
import { TypeUrl } from '../resources/types.js';
import { Encoder } from './encode.js';
import { BuiltServiceEndpoints } from './endpoints.js';

/** A ClusterLoadAssignment whose content is its assignment (one locality per assigned node). */
function endpointsOf(
  rows: ReadonlyArray<[string, readonly LocalityAssignment[]]>,
  keyIndex?: ReadonlyMap<string, number>,
): BuiltServiceEndpoints {
  const assignments = new Map<string, GatewayAssignment>(
    rows.map(([gateway, localities]) => [gateway, { service: 's', localities, reason: '' }]),
  );
  return new BuiltServiceEndpoints(
    {
      service: 's',
      assignments,
      unknownKey: '*',
      build: (a) => ({
        name: 's',
        typeUrl: TypeUrl.ClusterLoadAssignment,
        value: {
          cluster_name: 's',
          endpoints: (a?.localities ?? []).map((l) => ({
            locality: { sub_zone: l.node },
            priority: l.priority,
            load_balancing_weight: { value: l.weight },
          })),
        },
      }),
      previous: undefined,
      ...(keyIndex ? { keyIndex } : {}),
    },
    new Encoder(),
  );
}

test('endpoints version: a function of the (gateway key → resource) rows alone, not of their order; any row moved or swapped changes it', () => {
  const rng = mulberry32(3);
  const nodes = Array.from({ length: 6 }, (_, i) => `n${i}`);
  const variants: Array<readonly LocalityAssignment[]> = nodes.map((n) => [{ node: n, priority: 0, weight: 100 }]);
  for (let round = 0; round < 50; round++) {
    const rows: Array<[string, readonly LocalityAssignment[]]> = Array.from({ length: 12 }, (_, g) => [
      `g${g}`,
      variants[Math.floor(rng() * variants.length)]!,
    ]);
    const base = endpointsOf(rows);
    assert.equal(endpointsOf([...rows].reverse()).version, base.version, `round ${round}: order`);
    // A snapshot's key index only changes how rows are walked: every key with the unknown key, some
    // keys without it, or keys of no row at all (a gateway node without a row of its own).
    const keys = rows.map((r) => r[0]);
    const indexes = [[...keys, '*'], keys.filter(() => rng() < 0.5), ['*', 'nowhere', ...keys.slice(0, 3)]];
    for (const index of indexes) {
      const built = endpointsOf(rows, new Map(index.map((k, slot) => [k, slot])));
      assert.equal(built.version, base.version, `round ${round}: key index ${index.join(',')}`);
      for (const k of [...keys, '*', 'nowhere']) {
        assert.equal(built.forKey(k)?.version, base.forKey(k)?.version, `round ${round}: ${k}`);
        const slot = index.indexOf(k);
        if (slot >= 0) assert.equal(built.forSlot(slot)?.version, base.forKey(k)?.version, `round ${round}: slot of ${k}`);
      }
    }
    // One row to another assignment.
    const i = Math.floor(rng() * rows.length);
    const other = variants.find((v) => v !== rows[i]![1])!;
    const moved = rows.map((r, k): [string, readonly LocalityAssignment[]] => (k === i ? [r[0], other] : r));
    assert.notEqual(endpointsOf(moved).version, base.version, `round ${round}: one row moved`);
    // Two rows with different assignments swap them: the same multiset of resources, other rows.
    const j = rows.findIndex((r) => r[1] !== rows[i]![1]);
    if (j < 0) continue;
    const swapped = rows.map((r, k): [string, readonly LocalityAssignment[]] =>
      k === i ? [r[0], rows[j]![1]] : k === j ? [r[0], rows[i]![1]] : r,
    );
    assert.notEqual(endpointsOf(swapped).version, base.version, `round ${round}: two rows swapped`);
  }
});
