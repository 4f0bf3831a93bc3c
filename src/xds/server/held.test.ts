import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffResources, type TypeView } from '../cache/diff.js';
import { TypeUrl } from '../resources/types.js';
import { encodedFromBytes, versionOf, type EncodedResource } from '../snapshot/encoded.js';
import { mulberry32 } from '../../util/rng.js';
import { HeldResources } from './held.js';

const res = (name: string, content: string): EncodedResource => encodedFromBytes(TypeUrl.Cluster, name, Buffer.from(content));

function view(resources: EncodedResource[], wildcard?: string[]): TypeView {
  const m = new Map(resources.map((r) => [r.name, r]));
  const w = wildcard ? new Set(wildcard) : undefined;
  return { get: (n) => m.get(n), wildcardNames: () => w ?? m.keys(), inWildcard: (n) => (w ? w.has(n) : m.has(n)) };
}

function assertSame(held: HeldResources, model: Map<string, EncodedResource>, pool: string[], at: string): void {
  assert.equal(held.size, model.size, `${at}: size`);
  assert.equal(held.version, versionOf(model.values()), `${at}: version`);
  for (const n of pool) assert.equal(held.get(n), model.get(n), `${at}: get(${n})`);
  const values = [...held.values()];
  assert.deepEqual(values.map((r) => r.name).sort(), [...model.keys()].sort(), `${at}: values`);
  assert.equal(new Set(values.map((r) => r.name)).size, values.length, `${at}: each name once`);
  assert.deepEqual([...held.keys()].sort(), [...model.keys()].sort(), `${at}: keys`);
}

test('held: a whole view plus its differences reads exactly like a map of what was sent', () => {
  const rng = mulberry32(7);
  const pool = Array.from({ length: 20 }, (_, i) => `c${i}`);
  for (let round = 0; round < 200; round++) {
    const cache = pool.filter(() => rng() < 0.7).map((n) => res(n, `${n}-${round}`));
    const wild = rng() < 0.5 ? cache.filter(() => rng() < 0.7).map((r) => r.name) : undefined;
    const sub = { wildcard: rng() < 0.5, names: new Set(pool.filter(() => rng() < 0.4)) };
    const held = new HeldResources();
    const first = diffResources(sub, view(cache, wild), held);
    // Against nothing held, a pure wildcard or a names-only subscription comes as a whole set.
    assert.equal(first.whole !== undefined, !sub.wildcard || sub.names.size === 0, `round ${round}: whole`);
    if (first.whole) held.holdWhole(first.whole);
    else for (const r of first.upserts) held.hold(r);
    const model = new Map(first.upserts.map((r) => [r.name, r]));
    assertSame(held, model, pool, `round ${round} whole`);
    // Past 64 differences it folds into a map; 100 steps cross that in some rounds.
    const steps = rng() < 0.3 ? 100 : 12;
    for (let step = 0; step < steps; step++) {
      const name = pool[Math.floor(rng() * pool.length)]! + (rng() < 0.2 ? `-extra${step}` : '');
      if (rng() < 0.6) {
        const r = res(name, `${name}-${round}-${step}-${rng() < 0.5 ? 'a' : 'b'}`);
        held.hold(r);
        model.set(name, r);
      } else {
        held.forget(name);
        model.delete(name);
      }
      assertSame(held, model, [...pool, name], `round ${round} step ${step}`);
    }
  }
});

test('held: holding a whole view on top of held resources adds them one by one', () => {
  const a = res('a', '1');
  const b = res('b', '1');
  const held = new HeldResources();
  held.hold(a);
  const whole = diffResources({ wildcard: true, names: new Set() }, view([b]), new HeldResources());
  held.holdWhole(whole.whole!);
  assert.deepEqual([...held.keys()].sort(), ['a', 'b']);
  assert.equal(held.version, versionOf([a, b]));
});
