import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffResources, type TypeView } from '../cache/diff.js';
import { TypeUrl } from '../resources/types.js';
import { encodedFromBytes, type EncodedResource } from '../snapshot/encoded.js';
import { TypeState } from './type-state.js';

const res = (name: string): EncodedResource => encodedFromBytes(TypeUrl.ClusterLoadAssignment, name, Buffer.from(name));
const view = (rs: EncodedResource[]): TypeView => {
  const m = new Map(rs.map((r) => [r.name, r]));
  return { get: (n) => m.get(n), wildcardNames: () => m.keys(), inWildcard: (n) => m.has(n) };
};

test('type state: what a client holds as a whole view does not move when its subscription changes later', () => {
  const v = view([res('a'), res('b'), res('c')]);
  for (const change of ['sotw', 'delta'] as const) {
    const state = new TypeState(TypeUrl.ClusterLoadAssignment);
    if (change === 'sotw') state.setSotwNames(['a', 'b']);
    else state.updateDeltaNames(['a', 'b'], [], true);
    state.apply(diffResources(state, v, state.held));
    assert.deepEqual([...state.held.keys()].sort(), ['a', 'b']);
    if (change === 'sotw') assert.equal(state.setSotwNames(['b', 'c']), true);
    else assert.equal(state.updateDeltaNames(['c'], ['a'], false), true);
    assert.deepEqual([...state.held.keys()].sort(), ['a', 'b'], `${change}: held until the diff is applied`);
    const diff = diffResources(state, v, state.held);
    assert.deepEqual([diff.upserts.map((r) => r.name), diff.dropped], [['c'], ['a']], change);
    state.apply(diff);
    assert.deepEqual([...state.held.keys()].sort(), ['b', 'c'], change);
  }
});

test('type state: a shared name set is kept as is, and the same set again is no change', () => {
  const shared: ReadonlySet<string> = new Set(['x', 'y']);
  const a = new TypeState(TypeUrl.ClusterLoadAssignment);
  assert.equal(a.setSotwNames(['x', 'y'], shared), true);
  assert.equal(a.names, shared);
  assert.equal(a.setSotwNames(['x', 'y'], shared), false);
  assert.equal(a.setSotwNames(['x'], undefined), true);
  assert.deepEqual([...shared], ['x', 'y'], 'never changed in place');
});
