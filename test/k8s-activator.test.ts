/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON and decoded protos */
/**
 * Knative's activator in the data path, on recorded objects as knative/serving writes them
 * (test/kube/fixtures/activator-*.yaml; each file cites the knative/serving source it follows):
 * a ServerlessService in Serve and in Proxy mode, the revision's public and `-private` Services'
 * EndpointSlices, and the activator's own (knative-serving/activator-service).
 *
 * End to end: `proxima serve --kubernetes` against the kube-apiserver STAND-IN (no kube-apiserver on
 * this machine; the real @kubernetes/client-node informers list/watch it) and one raw ADS client per
 * node subscribing like Kourier's Envoy gateway (there is no Envoy binary here): the EDS each gateway
 * gets in each mode, the switch Serve → Proxy → Serve, scale to zero and back, the per-revision
 * `proxima.dev/activator: keep` choice, and the mode in /debug/source, /metrics and the KIngress status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionOf, getJson, serveKubernetes, until } from './kube/e2e-cluster.js';
import { startStandIn } from './kube/harness.js';
import { clusterObjects, latestByName, loadObjects } from './kube/fixtures.js';
import { KourierLikeGateway } from './kube/kourier-gateway.js';
import type { ApiServerStandIn } from './kube/apiserver-standin.js';
import { TypeUrl } from '../src/xds/resources/types.js';
import { translateCluster } from '../src/sources/kubernetes/translate.js';

const CLUSTER = 'default/hello-00001';
const POD_EDGE1 = '10.1.1.5:8012';
const POD_EDGE2 = '10.1.2.5:8012';
const ACTIVATOR = '10.1.3.200:8012';
const NODES = ['edge-1', 'edge-2', 'cloud-1'] as const;
const BASE = ['nodes.yaml', 'hello-revisions.yaml', 'hello-endpointslices-serve.yaml', 'hello-ingress.yaml', 'activator-common.yaml'];

/** "priority:node:addr,addr" per locality, in EDS order. */
function edsOf(g: KourierLikeGateway): string[] | undefined {
  const cla = g.resource(TypeUrl.ClusterLoadAssignment, CLUSTER) as any;
  if (!cla) return undefined;
  return (cla.endpoints ?? []).map(
    (l: any) =>
      `${l.priority ?? 0}:${l.locality.sub_zone}:` +
      (l.lb_endpoints ?? [])
        .map((e: any) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`)
        .join(','),
  );
}

function apply(api: ApiServerStandIn, file: string, edit?: (o: Record<string, any>) => void): void {
  for (const o of loadObjects(file)) {
    edit?.(o);
    api.apply(o);
  }
}

function objectsOf(files: string[]) {
  return clusterObjects(latestByName(files.flatMap((f) => loadObjects(f))));
}

const translate = (files: string[]) =>
  translateCluster(objectsOf(files), { ingressClass: 'kourier.ingress.networking.knative.dev', defaultCapacity: 10 });

test('activator (translation): Proxy mode → the pods from the -private slices, the activator kept as fallback', () => {
  const t = translate([...BASE, 'activator-sks-proxy.yaml']);
  const s = t.services.find((x) => x.name === CLUSTER)!;
  assert.deepEqual(
    s.endpoints.map((e) => `${e.address}:${e.port}@${e.node}`),
    [`${POD_EDGE1}@edge-1`, `${POD_EDGE2}@edge-2`],
  );
  assert.deepEqual(
    s.activators?.map((e) => `${e.address}:${e.port}@${e.node}`),
    [`${ACTIVATOR}@cloud-1`],
  );
  assert.deepEqual(t.dataPaths, [
    {
      service: CLUSTER,
      revision: 'hello-00001',
      sksMode: 'Proxy',
      publicEndpointsMode: 'Proxy',
      choice: 'bypass',
      path: 'pods',
      readyPods: 2,
      activators: 1,
      privateService: 'hello-00001-private',
      privateServiceSeen: true,
    },
  ]);
  // hello-00002 has no ServerlessService in these objects: its public endpoints, as before.
  assert.equal(t.services.find((x) => x.name === 'default/hello-00002')?.activators, undefined);
});

test('activator (translation): proxima.dev/activator keep on the Revision → the public endpoints (the activator)', () => {
  const objs = objectsOf([...BASE, 'activator-sks-proxy.yaml']);
  const rev = objs.revisions.find((r) => r['metadata']['name'] === 'hello-00001')!;
  rev['metadata']['annotations'] = { ...rev['metadata']['annotations'], 'proxima.dev/activator': 'keep' };
  const t = translateCluster(objs, { ingressClass: 'kourier.ingress.networking.knative.dev', defaultCapacity: 10 });
  const s = t.services.find((x) => x.name === CLUSTER)!;
  assert.deepEqual(
    s.endpoints.map((e) => `${e.address}:${e.port}@${e.node}`),
    [`${ACTIVATOR}@cloud-1`],
  );
  assert.equal(s.activators, undefined);
  assert.equal(t.dataPaths[0]!.path, 'activator');
  // A value that is neither keep nor bypass: the default, with a warning.
  rev['metadata']['annotations']['proxima.dev/activator'] = 'sometimes';
  const bad = translateCluster(objs, { ingressClass: 'kourier.ingress.networking.knative.dev', defaultCapacity: 10 });
  assert.equal(bad.dataPaths[0]!.choice, 'bypass');
  assert.match(bad.dataPaths[0]!.warning ?? '', /"sometimes" is not bypass or keep/);
});

test('activator (translation): scaled to zero → no pod, the activator is all there is', () => {
  const t = translate([...BASE, 'activator-zero.yaml']);
  const s = t.services.find((x) => x.name === CLUSTER)!;
  assert.deepEqual(s.endpoints, []);
  assert.deepEqual(
    s.activators?.map((e) => `${e.address}:${e.port}`),
    [ACTIVATOR],
  );
  assert.equal(t.dataPaths[0]!.path, 'activator');
  assert.equal(t.dataPaths[0]!.readyPods, 0);
});

test('activator e2e: the EDS each gateway gets in Serve and Proxy mode, the switch Serve → Proxy → Serve, scale to zero and back', async (t) => {
  const { api, url } = await startStandIn([...BASE, 'activator-sks-serve.yaml']);
  t.after(() => api.stop());
  const serve = await serveKubernetes(url);
  t.after(() => serve.close());
  const gateways = new Map(NODES.map((n) => [n, new KourierLikeGateway(serve.addresses.xds, n)] as const));
  t.after(() => {
    for (const g of gateways.values()) g.close();
  });
  const eds = () => Object.fromEntries(NODES.map((n) => [n, edsOf(gateways.get(n)!)]));
  const dataPath = async () => (await getJson(serve, '/debug/source')).dataPaths[0];
  const metrics = async () => (await fetch(`http://${serve.addresses.admin}/metrics`)).text();
  const ingressCondition = () => conditionOf(api.get('Ingress', 'hello', 'default'), 'ActivatorBypassed');

  // Serve mode: pods first — the gateway's own node at priority 0 — and the activator (from
  // activator-service, since the public endpoints are the pods) as the last priority.
  const routedToPods = (e: Record<string, string[] | undefined>) => {
    for (const n of NODES) {
      const list = e[n];
      assert.ok(list && list.length >= 2, `${n}: ${JSON.stringify(list)}`);
      const last = list[list.length - 1]!;
      const lastPriority = Math.max(...list.map((l) => Number(l.split(':')[0])));
      assert.equal(last, `${lastPriority}:cloud-1:${ACTIVATOR}`, `${n}: the activator alone at the last priority`);
      assert.ok(
        list.slice(0, -1).every((l) => Number(l.split(':')[0]) < lastPriority && !l.includes('10.1.3.200')),
        `${n}: every pod locality before the activator's: ${JSON.stringify(list)}`,
      );
      assert.deepEqual(
        list
          .slice(0, -1)
          .flatMap((l) => l.split(':').slice(2).join(':').split(','))
          .sort(),
        [POD_EDGE1, POD_EDGE2],
      );
    }
    assert.equal(e['edge-1']![0], `0:edge-1:${POD_EDGE1}`);
    assert.equal(e['edge-2']![0], `0:edge-2:${POD_EDGE2}`);
  };
  await until('Serve: pods first, activator last at every gateway', () => (routedToPods(eds()), true));
  const serveEds = eds();
  assert.equal((await dataPath()).sksMode, 'Serve');
  await until('KIngress ActivatorBypassed True (Serve)', () => {
    const c = ingressCondition();
    return c?.status === 'True' && c.severity === 'Info' && /hello-00001: pods \(bypass; SKS Serve, 2 ready pods/.test(c.message);
  });

  // Serve → Proxy: the public endpoints become the activator; Proxima keeps routing to the pods.
  apply(api, 'activator-sks-proxy.yaml');
  await until('Proxy seen', async () => (await dataPath()).sksMode === 'Proxy');
  await until('Proxy: the same EDS at every gateway', () => (assert.deepEqual(eds(), serveEds), true));
  assert.match(
    await metrics(),
    /proxima_kubernetes_revision_data_path\{service="default\/hello-00001",sks_mode="Proxy",choice="bypass",path="pods"\} 2/,
  );
  const assignments = await getJson(serve, '/debug/assignments');
  assert.deepEqual(assignments.services[CLUSTER].activators, [`${ACTIVATOR}@cloud-1`]);
  await until('KIngress says Proxy', () => /SKS Proxy, 2 ready pods, activator as last priority/.test(ingressCondition()?.message ?? ''));

  // What the issue reported (and `proxima.dev/activator: keep` asks for): the public endpoints,
  // i.e. one endpoint at priority 0 — the activator on cloud-1 — for every gateway.
  apply(api, 'hello-revisions.yaml', (o) => {
    if (o['kind'] === 'Revision' && o['metadata']['name'] === 'hello-00001') o['metadata']['annotations']['proxima.dev/activator'] = 'keep';
  });
  await until('keep: the activator only', () => {
    for (const n of NODES) assert.deepEqual(eds()[n], [`0:cloud-1:${ACTIVATOR}`], n);
    return true;
  });
  await until(
    'KIngress ActivatorBypassed False, ActivatorKept',
    () => ingressCondition()?.status === 'False' && ingressCondition()?.reason === 'ActivatorKept',
  );
  apply(api, 'hello-revisions.yaml');
  await until('bypass again', () => (assert.deepEqual(eds(), serveEds), true));

  // Scale to zero: no pod left; every gateway gets the activator alone, at priority 0.
  apply(api, 'activator-zero.yaml');
  await until('zero: the activator at priority 0 everywhere', () => {
    for (const n of NODES) assert.deepEqual(eds()[n], [`0:cloud-1:${ACTIVATOR}`], n);
    return true;
  });
  assert.equal((await dataPath()).path, 'activator');
  assert.match(
    await metrics(),
    /proxima_kubernetes_revision_data_path\{service="default\/hello-00001",sks_mode="Proxy",choice="bypass",path="activator"\} 0/,
  );
  await until('KIngress: NoReadyPods', () => ingressCondition()?.reason === 'NoReadyPods');

  // And back: the pods are ready again (still Proxy: two pods are below the burst capacity).
  apply(api, 'activator-common.yaml');
  apply(api, 'activator-sks-proxy.yaml');
  await until('back from zero: pods first again', () => (assert.deepEqual(eds(), serveEds), true));
  // Proxy → Serve.
  apply(api, 'activator-sks-serve.yaml');
  await until('Serve again', async () => (await dataPath()).sksMode === 'Serve');
  assert.deepEqual(eds(), serveEds);
});
