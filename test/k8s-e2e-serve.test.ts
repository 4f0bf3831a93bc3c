/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON and decoded protos */
/**
 * End to end on Kubernetes/Knative, in-process: `proxima serve --kubernetes` against a kube-apiserver
 * STAND-IN (test/kube/apiserver-standin.ts — there is no kube-apiserver on this machine; the real
 * @kubernetes/client-node informers list/watch it), REAL gRPC revision pods on loopback behind the
 * EndpointSlices, real @grpc/grpc-js-xds gateways on two nodes, and a raw ADS client subscribing
 * like Kourier's Envoy for the KIngress status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startClient, type GatewayClient, type RunResult } from './peers/harness.js';
import {
  conditionOf,
  EXTERNAL_HOST,
  getJson,
  LOCAL_HOST,
  portOf,
  serveKubernetes,
  startKnativeStandIn,
  startRevisionPods,
  until,
} from './kube/e2e-cluster.js';
import { KOURIER } from './kube/harness.js';
import { KourierLikeGateway } from './kube/kourier-gateway.js';
import { TypeUrl } from '../src/xds/resources/types.js';
import { DEFAULT_LOAD_BALANCERS } from '../src/sources/kubernetes/status.js';

const R1 = 'hello-00001';
const R2 = 'hello-00002';

function byRevision(r: RunResult): { r1: number; r2: number; total: number; from: (rev: string) => string[] } {
  const entries = Object.entries(r.counts);
  const sum = (rev: string) => entries.filter(([id]) => id.startsWith(`${rev}@`)).reduce((a, [, n]) => a + n, 0);
  return {
    r1: sum(R1),
    r2: sum(R2),
    total: entries.reduce((a, [, n]) => a + n, 0),
    from: (rev) =>
      entries
        .filter(([id, n]) => id.startsWith(`${rev}@`) && n > 0)
        .map(([id]) => id)
        .sort(),
  };
}

test('k8s e2e (stand-in apiserver): 90/10 split, revision traffic stays local, KIngress Ready only after a Kourier-like gateway ACKs', async (t) => {
  // hello-00001 has a ready pod on every node; hello-00002 on edge-1 and cloud-1, and a live but
  // NOT ready pod on edge-2 that must never get traffic.
  const pods = await startRevisionPods([
    { revision: R1, node: 'edge-1' },
    { revision: R1, node: 'edge-2' },
    { revision: R1, node: 'cloud-1' },
    { revision: R2, node: 'edge-1' },
    { revision: R2, node: 'cloud-1' },
    { revision: R2, node: 'edge-2', ready: false },
  ]);
  t.after(() => pods.close());
  // containerConcurrency 1000: 800 back-to-back RPCs are low load for the policy even when a busy
  // machine inflates the service time the gateways report (spilling under load is policy business).
  const { api, url } = await startKnativeStandIn(pods, { containerConcurrency: 1000 });
  t.after(() => api.stop());
  const serve = await serveKubernetes(url);
  t.after(() => serve.close());
  const xdsPort = portOf(serve.addresses.xds);

  const gateways: GatewayClient[] = [];
  t.after(() => Promise.all(gateways.map((g) => g.close())));
  gateways.push(await startClient('grpc-js', { xdsPort, node: 'edge-1', target: `xds:///${EXTERNAL_HOST}` }));
  gateways.push(await startClient('grpc-js', { xdsPort, node: 'edge-2', target: `xds:///${LOCAL_HOST}` }));
  const [edge1, edge2] = gateways as [GatewayClient, GatewayClient];
  await Promise.all(gateways.map((g) => g.run(5)));

  const N = 800;
  const [a, b] = await Promise.all([edge1.run(N), edge2.run(N)]);
  for (const [name, r, g] of [
    ['edge-1', a, edge1],
    ['edge-2', b, edge2],
  ] as const) {
    assert.deepEqual(r.errors, {}, `${name}: no failed RPCs; stderr: ${g.stderr().slice(-2000)}`);
    const s = byRevision(r);
    assert.equal(s.total, N);
    const pct = (100 * s.r1) / s.total;
    // 90/10 over 800 RPCs: σ ≈ 1.1 points, so ±5 points is > 4σ.
    assert.ok(Math.abs(pct - 90) <= 5, `${name}: ${pct.toFixed(1)} % to ${R1}, want 90 ± 5: ${JSON.stringify(r.counts)}`);
    assert.ok(s.r2 > 0, `${name}: ${R2} gets its 10 %`);
    // Every revision with a ready pod on the gateway's node is served there.
    assert.deepEqual(s.from(R1), [`${R1}@${name}`], `${name}: ${R1} stays local`);
  }
  assert.deepEqual(byRevision(a).from(R2), [`${R2}@edge-1`], 'edge-1: hello-00002 stays local');
  const offNode = byRevision(b).from(R2);
  assert.ok(offNode.length > 0 && offNode.every((id) => id !== `${R2}@edge-2`), `edge-2 has no ready ${R2} pod: ${offNode.join(',')}`);
  assert.equal(pods.pod(R2, 'edge-2').served(), 0, 'the not-ready pod got nothing');

  // /debug/assignments agrees with what the gateways did.
  const view = await getJson(serve, '/debug/assignments');
  assert.equal(view.services[`default/${R1}`].gateways['edge-2'].localities[0].node, 'edge-2');
  assert.equal(view.services[`default/${R1}`].gateways['edge-2'].localities[0].sharePercent, 100);

  // KIngress status: serve reports the network configured, but not Ready: the gRPC gateways do
  // not subscribe to Kourier's route configurations, so nothing proves an Envoy gateway has them.
  const ingress = () => api.get('Ingress', 'hello', 'default');
  await until('NetworkConfigured=True written to the stand-in', () => conditionOf(ingress(), 'NetworkConfigured')?.['status'] === 'True');
  assert.equal(conditionOf(ingress(), 'Ready')?.['status'], 'Unknown');
  assert.equal(ingress()?.['status']?.['publicLoadBalancer'], undefined);

  // A Kourier-like gateway subscribes (wildcard CDS/LDS, EDS, RDS external/internal_services) but
  // does not ACK its routes yet.
  const kourier = new KourierLikeGateway(serve.addresses.xds, 'edge-1', { holdRouteAcks: true });
  t.after(() => kourier.close());
  await until('the route configurations were sent to the Kourier-like gateway', async () => {
    const clients: any[] = await getJson(serve, '/debug/clients');
    const rds = clients
      .find((c) => c.nodeId === '3scale-kourier-gateway')
      ?.types.find((x: any) => x.typeUrl === TypeUrl.RouteConfiguration);
    return rds !== undefined && rds.names.includes('external_services') && rds.versionSent !== null && rds.versionAcked === null;
  });
  const ext = kourier.resource(TypeUrl.RouteConfiguration, 'external_services') as any;
  const vhost = ext.virtual_hosts.find((v: any) => v.name === EXTERNAL_HOST);
  const split = vhost.routes.find((r: any) => !r.match.headers).route.weighted_clusters.clusters;
  assert.deepEqual(
    split.map((c: any) => [
      c.name,
      c.weight.value,
      c.request_headers_to_add.find((h: any) => h.header.key === 'Knative-Serving-Revision').header.value,
    ]),
    [
      [`default/${R1}`, 90, R1],
      [`default/${R2}`, 10, R2],
    ],
  );
  // Status is refreshed every second; two refreshes later it must still not be Ready.
  await new Promise((r) => setTimeout(r, 2200));
  assert.notEqual(conditionOf(ingress(), 'Ready')?.['status'], 'True', 'not Ready before the gateway ACKed its routes');

  kourier.releaseRouteAcks();
  await until('KIngress Ready=True after the ACK', () => conditionOf(ingress(), 'Ready')?.['status'] === 'True');
  const st = ingress()!['status'];
  assert.equal(conditionOf(ingress(), 'LoadBalancerReady')?.['status'], 'True');
  assert.equal(st.observedGeneration, ingress()!['metadata']['generation']);
  assert.deepEqual(st.publicLoadBalancer, { ingress: [{ domainInternal: DEFAULT_LOAD_BALANCERS.publicDomainInternal }] });
  assert.deepEqual(st.privateLoadBalancer, { ingress: [{ domainInternal: DEFAULT_LOAD_BALANCERS.privateDomainInternal }] });
});

/** A KIngress of the hello ksvc's shape with one rule; `mutate` breaks it. */
function ingressNamed(name: string, host: string, mutatePath: (p: Record<string, any>) => void = () => undefined): Record<string, any> {
  const path: Record<string, any> = {
    splits: [
      {
        serviceName: R1,
        serviceNamespace: 'default',
        servicePort: 80,
        percent: 100,
        appendHeaders: { 'Knative-Serving-Namespace': 'default', 'Knative-Serving-Revision': R1 },
      },
    ],
  };
  mutatePath(path);
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', annotations: { 'networking.knative.dev/ingress.class': KOURIER } },
    spec: { httpOption: 'Enabled', rules: [{ hosts: [host], visibility: 'ExternalIP', http: { paths: [path] } }] },
  };
}

test('k8s e2e (stand-in apiserver): KIngresses the translator cannot express get Ready=False with a reason; serve keeps serving the others', async (t) => {
  const pods = await startRevisionPods([
    { revision: R1, node: 'edge-1' },
    { revision: R2, node: 'edge-1' },
  ]);
  t.after(() => pods.close());
  const { api, url } = await startKnativeStandIn(pods);
  t.after(() => api.stop());
  const serve = await serveKubernetes(url);
  t.after(() => serve.close());
  const kourier = new KourierLikeGateway(serve.addresses.xds, 'edge-1');
  t.after(() => kourier.close());
  const gw = await startClient('grpc-js', { xdsPort: portOf(serve.addresses.xds), node: 'edge-1', target: `xds:///${EXTERNAL_HOST}` });
  t.after(() => gw.close());
  const get = (name: string) => api.get('Ingress', name, 'default');
  await until('hello Ready', () => conditionOf(get('hello'), 'Ready')?.['status'] === 'True');

  const bad: Array<[string, Record<string, any>, string]> = [
    [
      'bad-tls',
      {
        ...ingressNamed('bad-tls', 'a.default.example.com'),
        spec: { ...ingressNamed('x', 'a.default.example.com')['spec'], tls: [{ hosts: ['a.default.example.com'] }] },
      },
      'InvalidIngress',
    ],
    [
      'bad-header',
      ingressNamed('bad-header', 'b.default.example.com', (p) => (p['headers'] = { 'X-Canary': { prefix: 'yes' } })),
      'UnsupportedHeaderMatch',
    ],
    ['bad-percent', ingressNamed('bad-percent', 'c.default.example.com', (p) => (p['splits'][0]['percent'] = 80)), 'InvalidIngress'],
    ['bad-spec', { ...ingressNamed('bad-spec', 'd.default.example.com'), spec: 'not an object' }, 'InvalidIngress'],
  ];
  for (const [, obj] of bad) api.apply(obj);
  // Another ingress class is none of our business: no status from us.
  api.apply({
    ...ingressNamed('istio-owned', 'e.default.example.com'),
    metadata: {
      name: 'istio-owned',
      namespace: 'default',
      annotations: { 'networking.knative.dev/ingress.class': 'istio.ingress.networking.knative.dev' },
    },
  });

  for (const [name, , reason] of bad) {
    await until(`${name}: Ready=False (${reason})`, () => {
      const ready = conditionOf(get(name), 'Ready');
      return ready?.['status'] === 'False' && ready['reason'] === reason;
    });
    const o = get(name)!;
    assert.ok(String(conditionOf(o, 'Ready')!['message']).length > 10, `${name}: a message says why`);
    assert.equal(conditionOf(o, 'NetworkConfigured')?.['status'], 'False');
    assert.equal(o['status']['publicLoadBalancer'], undefined);
    assert.equal(o['status']['observedGeneration'], o['metadata']['generation']);
  }
  assert.match(String(conditionOf(get('bad-percent'), 'Ready')!['message']), /add up to 80/);

  // The good ingress keeps its status and its traffic.
  assert.equal(conditionOf(get('hello'), 'Ready')?.['status'], 'True');
  assert.equal(get('istio-owned')?.['status'], undefined);
  const r = await gw.run(200);
  assert.deepEqual(r.errors, {});
  assert.ok((r.counts[`${R1}@edge-1`] ?? 0) > 150 && (r.counts[`${R2}@edge-1`] ?? 0) > 0, JSON.stringify(r.counts));
  const source = await getJson(serve, '/debug/source');
  assert.deepEqual([...new Set(source.routes.map((x: any) => x.name.split('#')[0]))], ['default/hello']);
  const metrics = await (await fetch(`http://${serve.addresses.admin}/metrics`)).text();
  assert.match(metrics, /proxima_kubernetes_ingresses\{outcome="unsupported"\} 4/);
  assert.match(metrics, /proxima_kubernetes_ingresses\{outcome="ok"\} 1/);

  // Fixing one makes it Ready, but only once the gateway has ACKed routes that contain it: the
  // gateway's ACK of the previous routes must not count (no Ready=True is ever written before).
  kourier.holdRouteAcks = true;
  const readyWrites = () =>
    api.requests.filter(
      (q) =>
        q.method === 'PATCH' &&
        q.path.endsWith('/ingresses/bad-tls/status') &&
        JSON.stringify(q.body).includes('"type":"Ready","status":"True"'),
    ).length;
  api.apply(ingressNamed('bad-tls', 'a.default.example.com'));
  await until(
    'the fixed ingress is translated (NetworkConfigured=True)',
    () => conditionOf(get('bad-tls'), 'NetworkConfigured')?.['status'] === 'True',
  );
  await until('routes with a.default.example.com sent to the gateway', () => {
    const ext = kourier.resource(TypeUrl.RouteConfiguration, 'external_services') as any;
    return ext.virtual_hosts.some((v: any) => v.name === 'a.default.example.com');
  });
  await new Promise((r) => setTimeout(r, 1500)); // > one status refresh period (1 s)
  assert.equal(readyWrites(), 0, 'no Ready=True before the gateway ACKed the routes containing the ingress');
  assert.equal(conditionOf(get('bad-tls'), 'Ready')?.['status'], 'Unknown');
  kourier.releaseRouteAcks();
  await until('fixed ingress Ready', () => conditionOf(get('bad-tls'), 'Ready')?.['status'] === 'True');
  assert.equal(get('bad-tls')!['status']['observedGeneration'], 2);
  assert.deepEqual((await gw.run(20)).errors, {});
});
