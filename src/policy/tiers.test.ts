import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../util/rng.js';
import { sortLocalities } from './tiers.js';
import type { LocalityAssignment } from './types.js';

test('sortLocalities: the order Array.prototype.sort gives (priority, heaviest first, node), same objects, ties stable', () => {
  const rng = mulberry32(21);
  const spec = (a: LocalityAssignment, b: LocalityAssignment): number =>
    a.priority - b.priority || b.weight - a.weight || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
  for (let round = 0; round < 2000; round++) {
    const length = Math.floor(rng() * 22);
    const ls: LocalityAssignment[] = Array.from({ length }, () => ({
      // Few distinct values: equal (priority, weight, node) triples are frequent, so stability is exercised.
      node: `n-${Math.floor(rng() * 4)}`,
      priority: Math.floor(rng() * 3),
      weight: rng() < 0.1 ? Infinity : 1 + Math.floor(rng() * 3),
    }));
    const expected = [...ls].sort(spec);
    const got = sortLocalities([...ls]);
    assert.equal(got.length, expected.length);
    got.forEach((l, i) => assert.equal(l, expected[i], `round ${round}, position ${i}`));
  }
});
