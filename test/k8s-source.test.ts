/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * KubernetesSource against the kube-apiserver STAND-IN (test/kube/apiserver-standin.ts) with the
 * real @kubernetes/client-node clients: initial sync, updates, deletes, 410 Gone relist, dropped
 * watches, bookmarks, error back-off, KIngress status through the status subresource, bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, metricValue, newSource, startStandIn } from './kube/harness.js';
import { loadObjects } from './kube/fixtures.js';

const INGRESS_STATUS = '/apis/networking.internal.knative.dev/v1alpha1/namespaces/default/ingresses/hello/status';

test('k8s source: syncs nodes, services and routes; follows updates and deletes', async (t) => {
  const { api, url } = await startStandIn();
  const { source, store } = newSource(url, { defaultCapacity: 4, kourier: { clusterGraceMs: 300 } });
  t.after(async () => {
    await source.stop();
    await api.stop();
  });
  await source.start();
  assert.deepEqual(store.nodeNames().sort(), ['cloud-1', 'edge-1', 'edge-2']);
  assert.deepEqual(
    store
      .services()
      .map((s) => s.name)
      .sort(),
    ['default/hello-00001', 'default/hello-00002'],
  );
  assert.equal(store.routes().length, 4);
  assert.deepEqual(
    store.service('default/hello-00001')!.endpoints.map((e) => [e.address, e.node, e.capacity]),
    [
      ['10.1.1.5', 'edge-1', 4],
      ['10.1.3.5', 'cloud-1', 4],
    ],
  );

  // Serve → proxy mode: the same EndpointSlice now lists the activators.
  for (const o of loadObjects('hello-endpointslice-proxy.yaml')) api.apply(o);
  await eventually(() =>
    assert.deepEqual(
      store.service('default/hello-00001')!.endpoints.map((e) => e.address),
      ['10.1.1.200', '10.1.3.200'],
    ),
  );
  // ... and back.
  for (const o of loadObjects('hello-endpointslices-serve.yaml')) api.apply(o);
  await eventually(() =>
    assert.deepEqual(
      store.service('default/hello-00001')!.endpoints.map((e) => e.address),
      ['10.1.1.5', '10.1.3.5'],
    ),
  );

  // containerConcurrency change reaches endpoint capacity.
  const rev = api.get('Revision', 'hello-00001', 'default')!;
  api.apply({ ...rev, spec: { ...rev['spec'], containerConcurrency: 25 } });
  await eventually(() => assert.equal(store.service('default/hello-00001')!.endpoints[0]!.capacity, 25));

  // Node NotReady, then deleted: its endpoints leave the model with it.
  const cloud = api.get('Node', 'cloud-1')!;
  api.apply({ ...cloud, status: { conditions: [{ type: 'Ready', status: 'False' }] } });
  await eventually(() => assert.equal(store.node('cloud-1')!.ready, false));
  api.delete('Node', 'cloud-1');
  await eventually(() => assert.equal(store.hasNode('cloud-1'), false));
  assert.deepEqual(
    store.service('default/hello-00001')!.endpoints.map((e) => e.node),
    ['edge-1'],
  );

  // Deleting the KIngress removes its routes at once and the services only it referenced after the
  // grace period (net-kourier pkg/generator/cluster_cache.go keeps old clusters for a while).
  api.delete('Ingress', 'hello', 'default');
  await eventually(() => assert.equal(store.routes().length, 0));
  const deletedAt = Date.now();
  assert.equal(store.services().length, 2, 'the clusters outlive their routes');
  await eventually(() => assert.equal(store.services().length, 0));
  assert.ok(Date.now() - deletedAt >= 250, 'not before the grace period');
});

test('k8s source: KIngress status via merge PATCH only once programmed, idempotent', async (t) => {
  const { api, url } = await startStandIn();
  const programmed = new Set<string>();
  const { source } = newSource(url, { isProgrammed: (r) => programmed.has(r) });
  t.after(async () => {
    await source.stop();
    await api.stop();
  });
  await source.start();
  await source.refreshStatuses();
  let st = api.get('Ingress', 'hello', 'default')!['status'];
  assert.equal(st.conditions.find((c: any) => c.type === 'Ready').status, 'Unknown');
  assert.equal(st.publicLoadBalancer, undefined);

  for (const r of source.routes().slice(0, 3)) programmed.add(r.name);
  await source.refreshStatuses();
  st = api.get('Ingress', 'hello', 'default')!['status'];
  assert.equal(st.conditions.find((c: any) => c.type === 'Ready').status, 'Unknown', 'one route still unprogrammed');

  for (const r of source.routes()) programmed.add(r.name);
  await source.refreshStatuses();
  st = api.get('Ingress', 'hello', 'default')!['status'];
  assert.deepEqual(
    st.conditions.map((c: any) => [c.type, c.status]),
    [
      ['LoadBalancerReady', 'True'],
      ['NetworkConfigured', 'True'],
      ['Ready', 'True'],
    ],
  );
  assert.equal(st.observedGeneration, 1);
  assert.deepEqual(st.publicLoadBalancer, { ingress: [{ domainInternal: 'kourier.kourier-system.svc.cluster.local' }] });
  assert.deepEqual(st.privateLoadBalancer, { ingress: [{ domainInternal: 'kourier-internal.kourier-system.svc.cluster.local' }] });
  const patches = api.requests.filter((r) => r.method === 'PATCH');
  assert.ok(patches.every((p) => p.contentType === 'application/merge-patch+json'));
  // Besides status, one patch adds Kourier's finalizer (with the resourceVersion it was computed from).
  const other = patches.filter((p) => p.path !== INGRESS_STATUS);
  assert.deepEqual(
    other.map((p) => [p.path, (p.body as any).metadata.finalizers]),
    [[INGRESS_STATUS.replace(/\/status$/, ''), ['ingresses.networking.internal.knative.dev']]],
  );
  assert.ok((other[0]!.body as any).metadata.resourceVersion);

  // Once the informer has seen our write, refreshing again writes nothing.
  await eventually(() => (source as any).byResource.get('ingresses').get('hello', 'default')?.status?.conditions?.[2]?.status === 'True');
  const before = api.requests.filter((r) => r.method === 'PATCH').length;
  await source.refreshStatuses();
  await source.refreshStatuses();
  assert.equal(api.requests.filter((r) => r.method === 'PATCH').length, before);

  // A spec change (new generation) is reflected in observedGeneration. isProgrammed answers per
  // route name, so the callback must only say true once the gateways ACKed the route's new content.
  const ing = api.get('Ingress', 'hello', 'default')!;
  ing['spec']['rules'][1]['hosts'] = ['hello.default.example.org'];
  api.apply(ing);
  await eventually(() => api.get('Ingress', 'hello', 'default')!['status'].observedGeneration === 2);
});

test('k8s source: 410 Gone relists, dropped watches resume, bookmarks are requested and honoured', async (t) => {
  const { api, url } = await startStandIn();
  const { source, store, registry } = newSource(url);
  t.after(async () => {
    await source.stop();
    await api.stop();
  });
  await source.start();
  await eventually(() => api.openWatches >= 5);
  const watchReqs = api.requests.filter((r) => r.query.includes('watch=true'));
  assert.ok(
    watchReqs.every((r) => r.query.includes('allowWatchBookmarks=true')),
    'every watch asks for bookmarks',
  );
  const listsBefore = await metricValue(registry, 'proxima_kubernetes_lists_total', { resource: 'nodes' });
  assert.equal(listsBefore, 1);

  // Dropped watch: the change made while disconnected is replayed from the resourceVersion.
  api.dropWatches();
  const e2 = api.get('Node', 'edge-2')!;
  api.apply({ ...e2, metadata: { ...e2['metadata'], labels: { ...e2['metadata'].labels, 'topology.kubernetes.io/zone': 'edge-c' } } });
  await eventually(() => assert.equal(store.node('edge-2')!.zone, 'edge-c'));
  assert.equal(await metricValue(registry, 'proxima_kubernetes_lists_total', { resource: 'nodes' }), 1, 'no relist for a plain reconnect');

  // Bookmark: the next watch resumes from the bookmark's resourceVersion.
  await eventually(() => api.openWatches >= 5);
  for (const o of loadObjects('hello-endpointslice-proxy.yaml')) api.apply(o); // moves the global resourceVersion
  const bookmarkRv = String(api.resourceVersion);
  assert.ok(api.sendBookmarks() >= 5);
  await new Promise((r) => setTimeout(r, 50));
  api.dropWatches();
  await eventually(() => {
    const nodeWatches = api.requests.filter((r) => r.path === '/api/v1/nodes' && r.query.includes('watch=true'));
    assert.ok(nodeWatches.at(-1)!.query.includes(`resourceVersion=${bookmarkRv}`));
  });

  // 410: history compacted while disconnected → ERROR 410 → relist sees the missed change.
  await eventually(() => api.openWatches >= 5);
  api.dropWatches();
  api.delete('Node', 'edge-2');
  api.compact();
  await eventually(() => assert.equal(store.hasNode('edge-2'), false));
  await eventually(async () => assert.ok((await metricValue(registry, 'proxima_kubernetes_lists_total', { resource: 'nodes' })) >= 2));
  assert.ok((await metricValue(registry, 'proxima_kubernetes_lists_total', { resource: 'nodes' })) >= 2);
});

test('k8s source: API errors back off and recover', async (t) => {
  const { api, url } = await startStandIn();
  api.failNext(4, 503); // the first lists fail: start() must still resolve once they succeed
  const { source, store, registry } = newSource(url);
  t.after(async () => {
    await source.stop();
    await api.stop();
  });
  await source.start();
  assert.equal(store.nodeNames().length, 3);
  assert.ok((await metricValue(registry, 'proxima_kubernetes_watch_errors_total')) >= 1);
  await eventually(() => api.openWatches >= 5);
  api.failNext(6, 500);
  api.dropWatches();
  api.delete('Node', 'edge-1');
  await eventually(() => assert.equal(store.hasNode('edge-1'), false));
});

test('k8s source: bad input — unknown class ignored, untranslatable ingress reported, unknown nodes wait', async (t) => {
  const { api, url } = await startStandIn();
  const { source, store, registry } = newSource(url, { isProgrammed: () => true });
  t.after(async () => {
    await source.stop();
    await api.stop();
  });
  await source.start();
  const hello = api.get('Ingress', 'hello', 'default')!;
  const mk = (name: string, annotations: Record<string, string>, mutate: (s: any) => void = () => {}) => {
    const spec = JSON.parse(JSON.stringify(hello['spec']));
    mutate(spec);
    return { apiVersion: hello['apiVersion'], kind: 'Ingress', metadata: { name, namespace: 'default', annotations }, spec };
  };
  api.apply(mk('istio-one', { 'networking.knative.dev/ingress.class': 'istio.ingress.networking.knative.dev' }));
  api.apply(
    mk(
      'rewrite',
      { 'networking.knative.dev/ingress.class': 'kourier.ingress.networking.knative.dev' },
      (s) => (s.rules[0].http.paths[0].headers = { 'X-A': { prefix: 'b' } }),
    ),
  );
  api.apply({
    apiVersion: hello['apiVersion'],
    kind: 'Ingress',
    metadata: {
      name: 'empty',
      namespace: 'default',
      annotations: { 'networking.knative.dev/ingress.class': 'kourier.ingress.networking.knative.dev' },
    },
  });
  await eventually(() => {
    const st = api.get('Ingress', 'rewrite', 'default')!['status'];
    const ready = st?.conditions?.find((c: any) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready.reason, 'UnsupportedHeaderMatch');
  });
  await eventually(() =>
    assert.equal(api.get('Ingress', 'empty', 'default')!['status']?.conditions?.find((c: any) => c.type === 'Ready')?.status, 'False'),
  );
  assert.equal(api.get('Ingress', 'istio-one', 'default')!['status'], undefined, 'another class is never touched');
  assert.equal(await metricValue(registry, 'proxima_kubernetes_ingresses', { outcome: 'ignored' }), 1);
  assert.equal(await metricValue(registry, 'proxima_kubernetes_ingresses', { outcome: 'unsupported' }), 2);
  assert.equal(store.routes().length, 4, 'the good ingress keeps its routes');

  // An EndpointSlice naming a node nobody registered yet, and slices with missing fields.
  const slice = api.get('EndpointSlice', 'hello-00002-q7m4t', 'default')!;
  slice['endpoints'].push({ addresses: ['10.7.7.7'], conditions: { ready: true }, nodeName: 'edge-9' });
  api.apply(slice);
  api.apply({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'junk', namespace: 'default', labels: { 'kubernetes.io/service-name': 'hello-00002' } },
    endpoints: 'nope',
  });
  await eventually(async () =>
    assert.equal(await metricValue(registry, 'proxima_kubernetes_skipped_endpoints', { reason: 'unknown_node' }), 1),
  );
  assert.ok(!store.service('default/hello-00002')!.endpoints.some((e) => e.address === '10.7.7.7'));
  api.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-9' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  await eventually(() =>
    assert.ok(store.service('default/hello-00002')!.endpoints.some((e) => e.address === '10.7.7.7' && e.node === 'edge-9')),
  );
  assert.equal(await metricValue(registry, 'proxima_kubernetes_skipped_endpoints', { reason: 'unknown_node' }), 0);
});
