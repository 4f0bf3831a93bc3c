import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../log.js';
import { TypeUrl } from '../resources/types.js';
import { encodedFromBytes } from './encoded.js';
import { XdsCache, type CacheChange, type CachedResource } from './snapshot-cache.js';

const c = (t: TypeUrl, name: string, content = name, refs: string[] = []): CachedResource => ({
  resource: encodedFromBytes(t, name, Buffer.from(content)),
  refs,
});

test('watchers hear only the names that changed, EDS only for their own key', () => {
  const demanded: string[] = [];
  const cache = new XdsCache({ log: silentLogger(), onKeyDemand: (k) => demanded.push(k) });
  const seenA: CacheChange[] = [];
  const seenB: CacheChange[] = [];
  cache.watch('node-a', (ch) => seenA.push(ch));
  cache.watch('node-b', (ch) => seenB.push(ch));
  assert.deepEqual(demanded, ['node-a', 'node-b']);
  cache.update((tx) => {
    tx.setShared(TypeUrl.Cluster, [c(TypeUrl.Cluster, 's1', 's1', ['s1']), c(TypeUrl.Cluster, 's2', 's2', ['s2'])]);
    tx.setEndpoints('node-a', [c(TypeUrl.ClusterLoadAssignment, 's1'), c(TypeUrl.ClusterLoadAssignment, 's2')]);
    tx.setEndpoints('node-b', [c(TypeUrl.ClusterLoadAssignment, 's1'), c(TypeUrl.ClusterLoadAssignment, 's2')]);
  });
  assert.deepEqual([...seenA[0]!.get(TypeUrl.Cluster)!].sort(), ['s1', 's2']);
  // Same content again: nobody hears anything.
  cache.update((tx) => tx.setShared(TypeUrl.Cluster, [c(TypeUrl.Cluster, 's1', 's1', ['s1']), c(TypeUrl.Cluster, 's2', 's2', ['s2'])]));
  assert.equal(seenA.length, 1);
  cache.update((tx) => tx.setEndpoints('node-b', [c(TypeUrl.ClusterLoadAssignment, 's2', 'new')]));
  assert.equal(seenA.length, 1, 'node-a is not told about node-b endpoints');
  assert.deepEqual([...seenB[1]!.get(TypeUrl.ClusterLoadAssignment)!], ['s2']);
  assert.deepEqual(cache.consistencyErrors(), []);
});

test('consistency errors are reported, counted, and do not block publishing', () => {
  const reported: string[] = [];
  const cache = new XdsCache({ log: silentLogger(), onInconsistency: (e) => reported.push(...e) });
  cache.watch('n', () => {});
  cache.update((tx) => {
    tx.setShared(TypeUrl.Cluster, [c(TypeUrl.Cluster, 's1', 's1', ['s1'])]);
    tx.setShared(TypeUrl.Listener, [c(TypeUrl.Listener, 'l', 'l', ['missing-route'])]);
    tx.setShared(TypeUrl.RouteConfiguration, [c(TypeUrl.RouteConfiguration, 'orphan')]);
    tx.setEndpoints('n', [c(TypeUrl.ClusterLoadAssignment, 'nocluster')]);
  });
  assert.ok(reported.some((e) => /missing route configuration "missing-route"/.test(e)));
  assert.ok(reported.some((e) => /"orphan" has no listener/.test(e)));
  assert.ok(reported.some((e) => /"s1" has no endpoints/.test(e)));
  assert.ok(reported.some((e) => /"nocluster" .* have no cluster/.test(e)));
  assert.equal(cache.size(TypeUrl.Cluster), 1, 'published anyway');
});

test('type versions are content hashes, stable across instances', () => {
  const mk = () => {
    const cache = new XdsCache({ log: silentLogger() });
    cache.update((tx) => tx.setShared(TypeUrl.Cluster, [c(TypeUrl.Cluster, 'b'), c(TypeUrl.Cluster, 'a')]));
    return cache.typeVersion(TypeUrl.Cluster, '*');
  };
  assert.equal(mk(), mk());
});

test('a key loses its endpoints with its last watcher unless pinned', () => {
  const cache = new XdsCache({ log: silentLogger(), pinnedKeys: ['*'] });
  const w = cache.watch('n', () => {});
  const star = cache.watch('*', () => {});
  cache.update((tx) => {
    tx.setEndpoints('n', [c(TypeUrl.ClusterLoadAssignment, 's')]);
    tx.setEndpoints('*', [c(TypeUrl.ClusterLoadAssignment, 's')]);
  });
  w.cancel();
  star.cancel();
  assert.equal(cache.hasEndpoints('n'), false);
  assert.equal(cache.hasEndpoints('*'), true);
});

test('variants: overlay replaces same-named shared resources, only its watchers hear it, dropped with its last watcher', () => {
  const demanded: string[] = [];
  const idle: string[] = [];
  const cache: XdsCache = new XdsCache({
    log: silentLogger(),
    onVariantDemand: (v) => {
      demanded.push(v);
      cache.update((tx) => tx.setVariant(v, [c(TypeUrl.Listener, 'l1', `l1-${v}`), c(TypeUrl.Cluster, 'extra')]));
    },
    onVariantIdle: (v) => idle.push(v),
  });
  cache.update((tx) => {
    tx.setShared(TypeUrl.Listener, [c(TypeUrl.Listener, 'l1'), c(TypeUrl.Listener, 'api')], new Set(['l1']));
    tx.setShared(TypeUrl.Cluster, [c(TypeUrl.Cluster, 's1')]);
  });
  const plain: CacheChange[] = [];
  const picked: CacheChange[] = [];
  cache.watch('n', (ch) => plain.push(ch));
  const w1 = cache.watch('n', (ch) => picked.push(ch), 'v');
  const w2 = cache.watch('n', () => {}, 'v');
  assert.deepEqual(demanded, ['v'], 'built once for both watchers');
  const lv = cache.view(TypeUrl.Listener, 'n', 'v');
  assert.notEqual(lv.get('l1')!.version, cache.view(TypeUrl.Listener, 'n').get('l1')!.version);
  assert.deepEqual([...lv.wildcardNames()].sort(), ['l1'], 'same names in the wildcard set, no duplicates');
  assert.equal(lv.inWildcard('api'), false);
  assert.deepEqual([...cache.view(TypeUrl.Cluster, 'n', 'v').wildcardNames()].sort(), ['extra', 's1']);
  assert.deepEqual([...cache.view(TypeUrl.Cluster, 'n').wildcardNames()], ['s1']);

  cache.update((tx) => tx.setVariant('v', [c(TypeUrl.Listener, 'l1', 'changed'), c(TypeUrl.Cluster, 'extra')]));
  assert.equal(plain.length, 0, 'plain watchers hear nothing of a variant change');
  assert.deepEqual([...picked[0]!.get(TypeUrl.Listener)!], ['l1']);
  cache.update((tx) => tx.setShared(TypeUrl.Cluster, [c(TypeUrl.Cluster, 's1', 'v2')]));
  assert.equal(plain.length, 1);
  assert.equal(picked.length, 2, 'variant watchers hear shared changes too');

  w1.cancel();
  assert.deepEqual(idle, []);
  w2.cancel();
  assert.deepEqual(idle, ['v']);
  assert.equal(cache.view(TypeUrl.Listener, 'n', 'v').get('l1')!.version, cache.view(TypeUrl.Listener, 'n').get('l1')!.version);
  cache.update((tx) => tx.setVariant('v', [c(TypeUrl.Cluster, 'extra')]));
  assert.deepEqual(cache.watchedVariants(), [], 'setVariant of an unwatched variant is ignored');
  assert.equal(cache.view(TypeUrl.Cluster, 'n', 'v').get('extra'), undefined);
});
