import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../util/rng.js';
import { memoizeInput } from './latency-table.js';
import { makeInput } from './testing.js';
import { assemble, sortLocalities } from './tiers.js';
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

test("assemble: a memoised input gives the plain input's localities, one shared array per distinct content", () => {
  const rng = mulberry32(31);
  let shared = 0;
  for (let round = 0; round < 300; round++) {
    const nodes = Array.from({ length: 2 + Math.floor(rng() * 20) }, (_, i) => `n-${i}`);
    const rtt: Record<string, number> = {};
    for (const a of nodes)
      for (const b of nodes) if (a < b) rtt[`${a}>${b}`] = rng() < 0.1 ? Infinity : [1, 2, 5, 5.5, 30, 31][Math.floor(rng() * 6)]!;
    const input = makeInput({
      gateways: nodes,
      backends: Object.fromEntries(nodes.filter(() => rng() < 0.8).map((n) => [n, [1 + Math.floor(rng() * 3), 10] as const])),
      rtt,
      unreachable: nodes.filter(() => rng() < 0.15),
    });
    const memoised = memoizeInput(input);
    // A few primaries per round (nodes that may be backends or not), so equal assignments recur.
    const primaries = Array.from({ length: 3 }, () =>
      nodes.filter(() => rng() < 0.2).map((node) => ({ node, priority: 0, weight: 1 + Math.floor(rng() * 2) })),
    );
    const seen: Array<readonly LocalityAssignment[]> = [];
    for (const g of input.gateways) {
      const primary = primaries[Math.floor(rng() * primaries.length)]!;
      const got = assemble(
        memoised,
        g,
        primary.map((l) => ({ ...l })),
        'test',
      );
      const want = assemble(
        input,
        g,
        primary.map((l) => ({ ...l })),
        'test',
      );
      assert.deepEqual(got, want, `round ${round}, gateway ${g}`);
      if (primary.length === 0) continue; // no primary, no assignment: an empty array of its own
      const equal = seen.find((ls) => JSON.stringify(ls) === JSON.stringify(got.localities));
      if (equal) {
        assert.equal(got.localities, equal, `round ${round}, gateway ${g}: equal content, one array`);
        shared++;
      } else seen.push(got.localities);
    }
  }
  assert.ok(shared > 20, `equal assignments were shared ${shared} times`);
});
