import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypeUrl } from '../resources/types.js';
import { diffResources, type TypeView } from './diff.js';
import { encodedFromBytes, type EncodedResource } from '../snapshot/encoded.js';
import { mulberry32 } from '../../util/rng.js';

const res = (name: string, content = name): EncodedResource => encodedFromBytes(TypeUrl.Listener, name, Buffer.from(content));

function view(resources: EncodedResource[], wildcard?: string[]): TypeView {
  const m = new Map(resources.map((r) => [r.name, r]));
  const w = wildcard ? new Set(wildcard) : undefined;
  return { get: (n) => m.get(n), wildcardNames: () => w ?? m.keys(), inWildcard: (n) => (w ? w.has(n) : m.has(n)) };
}
const names = (rs: readonly EncodedResource[]) => rs.map((r) => r.name).sort();

test('diff: table of subscription vs held cases', () => {
  const a = res('a');
  const b = res('b');
  const b2 = res('b', 'b-v2');
  const api = res('api');
  const cases: Array<{
    title: string;
    wildcard: boolean;
    subNames: string[];
    cache: EncodedResource[];
    wild?: string[];
    held: EncodedResource[];
    up: string[];
    removed: string[];
    dropped: string[];
  }> = [
    { title: 'wildcard, nothing held', wildcard: true, subNames: [], cache: [a, b], held: [], up: ['a', 'b'], removed: [], dropped: [] },
    {
      title: 'wildcard, all held at same version',
      wildcard: true,
      subNames: [],
      cache: [a, b],
      held: [a, b],
      up: [],
      removed: [],
      dropped: [],
    },
    { title: 'changed content', wildcard: true, subNames: [], cache: [a, b2], held: [a, b], up: ['b'], removed: [], dropped: [] },
    { title: 'deleted under wildcard', wildcard: true, subNames: [], cache: [a], held: [a, b], up: [], removed: ['b'], dropped: [] },
    { title: 'named, other names ignored', wildcard: false, subNames: ['a'], cache: [a, b], held: [], up: ['a'], removed: [], dropped: [] },
    { title: 'named, missing name waits', wildcard: false, subNames: ['zz'], cache: [a], held: [], up: [], removed: [], dropped: [] },
    {
      title: 'unsubscribed name is dropped, not removed',
      wildcard: false,
      subNames: ['a'],
      cache: [a, b],
      held: [a, b],
      up: [],
      removed: [],
      dropped: ['b'],
    },
    { title: 'named and deleted', wildcard: false, subNames: ['b'], cache: [a], held: [b], up: [], removed: ['b'], dropped: [] },
    {
      title: 'wildcard set excludes API listeners',
      wildcard: true,
      subNames: [],
      cache: [a, api],
      wild: ['a'],
      held: [],
      up: ['a'],
      removed: [],
      dropped: [],
    },
    {
      title: 'wildcard plus an explicit API listener',
      wildcard: true,
      subNames: ['api'],
      cache: [a, api],
      wild: ['a'],
      held: [],
      up: ['a', 'api'],
      removed: [],
      dropped: [],
    },
  ];
  for (const c of cases) {
    const d = diffResources(
      { wildcard: c.wildcard, names: new Set(c.subNames) },
      view(c.cache, c.wild),
      new Map(c.held.map((r) => [r.name, r])),
    );
    assert.deepEqual(names(d.upserts), c.up, c.title);
    assert.deepEqual(d.removed.sort(), c.removed, c.title);
    assert.deepEqual(d.dropped.sort(), c.dropped, c.title);
  }
});

test('diff: candidates limit the work to touched names', () => {
  const d = diffResources({ wildcard: true, names: new Set() }, view([res('a'), res('b')]), new Map(), ['b']);
  assert.deepEqual(names(d.upserts), ['b']);
});

test('diff: a new subscription (nothing held) sends what visiting every wanted name sends, in the same order', () => {
  const rng = mulberry32(14);
  for (let round = 0; round < 300; round++) {
    const pool = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const cache = pool.filter(() => rng() < 0.6).map((n) => res(n, `${n}-${round}`));
    const wild = rng() < 0.5 ? cache.filter(() => rng() < 0.7).map((r) => r.name) : undefined;
    const sub = { wildcard: rng() < 0.5, names: new Set(pool.filter(() => rng() < 0.4)) };
    const v = view(cache, wild);
    const everyName = [...(sub.wildcard ? v.wildcardNames() : []), ...sub.names];
    const fast = diffResources(sub, v, new Map());
    const visited = diffResources(sub, v, new Map(), [...new Set(everyName)]);
    assert.deepEqual(
      fast.upserts.map((r) => r.name),
      visited.upserts.map((r) => r.name),
      `round ${round}`,
    );
    assert.deepEqual([fast.removed, fast.dropped], [[], []]);
  }
});

test('diff: a pure wildcard against nothing held is one list per view, shared by every stream', () => {
  const v = view([res('a'), res('b')]);
  const first = diffResources({ wildcard: true, names: new Set() }, v, new Map());
  const second = diffResources({ wildcard: true, names: new Set() }, v, new Map());
  assert.equal(second.upserts, first.upserts);
  assert.ok(second.whole);
  // Another view (the next snapshot) is diffed afresh; a named subscription is never shared.
  const next = diffResources({ wildcard: true, names: new Set() }, view([res('a', 'a2')]), new Map());
  assert.deepEqual(
    next.upserts.map((r) => r.version),
    [res('a', 'a2').version],
  );
  const named = diffResources({ wildcard: true, names: new Set(['b']) }, v, new Map());
  assert.notEqual(named.upserts, first.upserts);
  assert.deepEqual(names(named.upserts), ['a', 'b']);
});
