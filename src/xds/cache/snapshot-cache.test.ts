import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../log.js';
import { TypeUrl } from '../resources/types.js';
import { resourceSet, type CachedResource, type ServiceEndpoints, type Snapshot, type VariantOverlay } from '../snapshot/snapshot.js';
import { encodedFromBytes } from '../snapshot/encoded.js';
import { XdsCache, type CacheChange } from './snapshot-cache.js';

const c = (t: string, name: string, content = name, refs: string[] = []): CachedResource => ({
  resource: encodedFromBytes(t as TypeUrl, name, Buffer.from(content)),
  refs,
});

/** A service's endpoints from a plain key → content table ('*' is the fallback row). */
function eds(service: string, byKey: Record<string, string>): ServiceEndpoints {
  const built = new Map(Object.entries(byKey).map(([k, content]) => [k, c(TypeUrl.ClusterLoadAssignment, service, content)]));
  return {
    service,
    forKey: (key) => (built.get(key) ?? built.get('*'))?.resource,
    forSlot: () => assert.fail('this snapshot has no key slots'),
    encodings: () => built.values(),
    version: JSON.stringify(byKey),
  };
}

/** A hand-made snapshot: clusters by name → content, endpoints per service, optional variants. */
function snap(opts: {
  nodes: string[];
  clusters: Record<string, string>;
  endpoints: ServiceEndpoints[];
  listeners?: CachedResource[];
  variants?: Record<string, VariantOverlay>;
}): Snapshot {
  const clusters = new Map(Object.entries(opts.clusters).map(([n, content]) => [n, c(TypeUrl.Cluster, n, content, [n])]));
  return {
    version: JSON.stringify(opts),
    nodes: new Set(opts.nodes),
    unknownKey: '*',
    shared: new Map([
      [TypeUrl.Cluster, resourceSet(clusters)],
      [TypeUrl.Listener, resourceSet(new Map((opts.listeners ?? []).map((l) => [l.resource.name, l])))],
    ]),
    endpoints: new Map(opts.endpoints.map((e) => [e.service, e])),
    keySlot: () => undefined,
    variant: (v) => opts.variants?.[v],
    releaseVariant: () => {},
    heldVariants: () => Object.keys(opts.variants ?? {}),
    errors: [],
    buildErrors: [],
  };
}

test('one publish: watches hear only the names that changed, EDS only for their own key', () => {
  const cache = new XdsCache({ log: silentLogger(), unknownKey: '*' });
  const nodes = ['node-a', 'node-b'];
  const s1 = eds('s1', { '*': 'x' });
  cache.publish(snap({ nodes, clusters: { s1: 's1', s2: 's2' }, endpoints: [s1, eds('s2', { '*': 'y' })] }));
  const seenA: CacheChange[] = [];
  const seenB: CacheChange[] = [];
  cache.watch('node-a', (ch) => seenA.push(ch));
  cache.watch('node-b', (ch) => seenB.push(ch));
  assert.equal(
    cache.view(TypeUrl.ClusterLoadAssignment, 'node-a').get('s2')?.version,
    c(TypeUrl.ClusterLoadAssignment, 's2', 'y').resource.version,
  );
  // Same content again (a new snapshot object): nobody hears anything.
  cache.publish(snap({ nodes, clusters: { s1: 's1', s2: 's2' }, endpoints: [s1, eds('s2', { '*': 'y' })] }));
  assert.equal(seenA.length + seenB.length, 0);
  // s2 changes for node-b only; s1 is the same object.
  cache.publish(snap({ nodes, clusters: { s1: 's1', s2: 's2' }, endpoints: [s1, eds('s2', { '*': 'y', 'node-b': 'new' })] }));
  assert.equal(seenA.length, 0, 'node-a is not told about node-b endpoints');
  assert.deepEqual([...seenB[0]!.get(TypeUrl.ClusterLoadAssignment)!], ['s2']);
  assert.equal(seenB[0]!.has(TypeUrl.Cluster), false);
  // A cluster changes: every watch hears that name, and only it.
  cache.publish(snap({ nodes, clusters: { s1: 's1', s2: 's2b' }, endpoints: [s1, eds('s2', { '*': 'y', 'node-b': 'new' })] }));
  assert.deepEqual([...seenA[0]!.get(TypeUrl.Cluster)!], ['s2']);
  assert.deepEqual([...seenB[1]!.get(TypeUrl.Cluster)!], ['s2']);
});

test('a node the snapshot learns moves its watch from the unknown-node key and hears every EDS name', () => {
  const cache = new XdsCache({ log: silentLogger(), unknownKey: '*' });
  const endpoints = [eds('s1', { '*': 'even', late: 'local' }), eds('s2', { '*': 'even' })];
  cache.publish(snap({ nodes: [], clusters: { s1: 'a', s2: 'b' }, endpoints }));
  const heard: CacheChange[] = [];
  const w = cache.watch('late', (ch) => heard.push(ch));
  assert.equal(w.key, '*');
  cache.publish(snap({ nodes: ['late'], clusters: { s1: 'a', s2: 'b' }, endpoints }));
  assert.equal(w.key, 'late');
  assert.deepEqual([...heard[0]!.get(TypeUrl.ClusterLoadAssignment)!].sort(), ['s1', 's2']);
  assert.equal(
    cache.view(TypeUrl.ClusterLoadAssignment, w.key).get('s1')?.version,
    c(TypeUrl.ClusterLoadAssignment, 's1', 'local').resource.version,
  );
});

test('a variant sees its overlay over the shared resources and hears its own changes', () => {
  const cache = new XdsCache({ log: silentLogger(), unknownKey: '*' });
  const l1 = c(TypeUrl.Listener, 'l1');
  const overlay = (content: string): VariantOverlay =>
    new Map([
      [TypeUrl.Listener, resourceSet(new Map([['l1', c(TypeUrl.Listener, 'l1', content)]]))],
      [TypeUrl.Cluster, resourceSet(new Map([['extra', c(TypeUrl.Cluster, 'extra')]]))],
    ]);
  const base = { nodes: ['n'], clusters: { s1: 's1' }, endpoints: [eds('s1', { '*': 'x' })], listeners: [l1] };
  cache.publish(snap({ ...base, variants: { v: overlay('l1-v') } }));
  const plain: CacheChange[] = [];
  const picked: CacheChange[] = [];
  cache.watch('n', (ch) => plain.push(ch));
  cache.watch('n', (ch) => picked.push(ch), 'v');
  assert.deepEqual(cache.watchedVariants(), ['v']);
  assert.notEqual(cache.view(TypeUrl.Listener, 'n', 'v').get('l1')!.version, cache.view(TypeUrl.Listener, 'n').get('l1')!.version);
  assert.deepEqual([...cache.view(TypeUrl.Cluster, 'n', 'v').wildcardNames()].sort(), ['extra', 's1']);
  assert.deepEqual([...cache.view(TypeUrl.Cluster, 'n').wildcardNames()], ['s1']);
  cache.publish(snap({ ...base, variants: { v: overlay('changed') } }));
  assert.equal(plain.length, 0, 'the plain watch hears nothing of the variant');
  assert.deepEqual([...picked[0]!.get(TypeUrl.Listener)!], ['l1']);
});

test('a watcher that throws does not stop the others; publishing from a watcher is refused', () => {
  const cache = new XdsCache({ log: silentLogger(), unknownKey: '*' });
  const first = snap({ nodes: ['a', 'b'], clusters: { s: '1' }, endpoints: [eds('s', { '*': '1' })] });
  cache.publish(first);
  let reentry: unknown;
  cache.watch('a', () => {
    try {
      cache.publish(first);
    } catch (err) {
      reentry = err;
    }
    throw new Error('boom');
  });
  let heard = 0;
  cache.watch('b', () => heard++);
  cache.publish(snap({ nodes: ['a', 'b'], clusters: { s: '2' }, endpoints: [eds('s', { '*': '1' })] }));
  assert.equal(heard, 1);
  assert.match(String(reentry), /inside a watcher/);
});

test('a shared type has one view per variant until the next publish, which shows the new content', () => {
  const cache = new XdsCache({ log: silentLogger(), unknownKey: '*' });
  const base = { nodes: ['n'], endpoints: [eds('s1', { '*': 'x' })] };
  cache.publish(snap({ ...base, clusters: { s1: 'one' } }));
  const first = cache.view(TypeUrl.Cluster, 'n');
  assert.equal(cache.view(TypeUrl.Cluster, 'other-node'), first, 'the shared types do not depend on the node');
  cache.publish(snap({ ...base, clusters: { s1: 'two' } }));
  const second = cache.view(TypeUrl.Cluster, 'n');
  assert.notEqual(second, first);
  assert.equal(second.get('s1')!.version, c(TypeUrl.Cluster, 's1', 'two').resource.version);
  assert.equal(first.get('s1')!.version, c(TypeUrl.Cluster, 's1', 'one').resource.version, 'an old view keeps what it showed');
});
