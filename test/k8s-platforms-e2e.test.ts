/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * Proxyless gRPC clients on plain Services and OpenFaaS functions, end to end: the recorded Service,
 * Deployment (test/kube/fixtures) and per-pod EndpointSlices in the kube-apiserver STAND-IN (there
 * is no kube-apiserver here; the real @kubernetes/client-node informers list/watch it), REAL gRPC
 * servers on loopback as the pods, and real @grpc/grpc-js-xds clients (and Debian's C-core grpcio
 * when present) dialing `xds:///NAME.NAMESPACE.svc.cluster.local` as gateways on their nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedPolicy } from '../src/policy/testing.js';
import { startClient, cCoreUnavailable, share, type ClientKind, type GatewayClient } from './peers/harness.js';
import { startPlane } from './peers/plane.js';
import { getJson, portOf, serveKubernetes, startRevisionPods, until, type RevisionPod } from './kube/e2e-cluster.js';
import { ApiServerStandIn } from './kube/apiserver-standin.js';
import { loadObjects } from './kube/fixtures.js';
import { newSource } from './kube/harness.js';

function clientKinds(t: { diagnostic(msg: string): void }): ClientKind[] {
  const why = cCoreUnavailable();
  if (!why) return ['grpc-js', 'c-core'];
  if (process.env.CI) throw new Error(`C-core client required in CI: ${why}`);
  t.diagnostic(`SKIP c-core client: ${why}`);
  return ['grpc-js'];
}

/** The EndpointSlice the EndpointSlice controller would write for one pod of `namespace/service`. */
function sliceFor(namespace: string, service: string, portName: string, pod: RevisionPod): Record<string, any> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-${pod.node}`,
      namespace,
      labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [pod.address], conditions: { ready: true, serving: true, terminating: false }, nodeName: pod.node }],
    ports: [{ name: portName, port: pod.port, protocol: 'TCP' }],
  };
}

/** The stand-in with the fixture nodes, the fixture objects of `file` except their slices, and one slice per pod. */
async function standIn(file: string, namespace: string, service: string, portName: string, pods: readonly RevisionPod[]) {
  const api = new ApiServerStandIn();
  const url = await api.start();
  for (const o of [...loadObjects('nodes.yaml'), ...loadObjects(file)]) if (o['kind'] !== 'EndpointSlice') api.apply(o);
  for (const p of pods) api.apply(sliceFor(namespace, service, portName, p));
  return { api, url };
}

/** 70/30 over edge-1/cloud-1 for every gateway, edge-2 as failover. */
const fixed7030 = fixedPolicy('fixed-70-30', [
  { node: 'edge-1', priority: 0, weight: 700 },
  { node: 'cloud-1', priority: 0, weight: 300 },
  { node: 'edge-2', priority: 1, weight: 1 },
]);

test('plain Service from EndpointSlices: xds:///echo.shop.svc.cluster.local is served locality-weighted 70/30 by real gRPC clients', async (t) => {
  const kinds = clientKinds(t);
  const pods = await startRevisionPods(['edge-1', 'edge-2', 'cloud-1'].map((node) => ({ revision: 'echo', node })));
  t.after(() => pods.close());
  const { api, url } = await standIn('plain-services.yaml', 'shop', 'echo', 'grpc', pods.pods);
  t.after(() => api.stop());
  const plane = await startPlane({ policy: fixed7030 });
  t.after(() => plane.close());
  const { source } = newSource(url, { store: plane.store });
  t.after(() => source.stop());
  await source.start();
  assert.equal(plane.store.service('shop/echo')?.endpoints.length, 3);

  const clients: GatewayClient[] = [];
  t.after(() => Promise.all(clients.map((c) => c.close())));
  const placement: Array<[ClientKind, string]> = [
    ['grpc-js', 'edge-2'],
    ['c-core', 'cloud-1'],
  ];
  for (const [kind, node] of placement.filter(([k]) => kinds.includes(k)))
    clients.push(await startClient(kind, { xdsPort: plane.port, node, target: 'xds:///echo.shop.svc.cluster.local' }));
  await Promise.all(clients.map((c) => c.run(5)));
  const n = 1000;
  const runs = await Promise.all(clients.map((c) => c.run(n)));
  clients.forEach((c, i) => {
    const r = runs[i]!;
    const desc = `${c.kind}@${c.node}: ${JSON.stringify(r)}`;
    assert.deepEqual(r.errors, {}, desc);
    // Binomial sd at p=0.7, n=1000 is 1.4 points: 5 points is > 3 sd.
    assert.ok(Math.abs(share(r, 'echo@edge-1') - 0.7) <= 0.05, desc);
    assert.ok(Math.abs(share(r, 'echo@cloud-1') - 0.3) <= 0.05, desc);
    assert.equal(r.counts['echo@edge-2'] ?? 0, 0, `failover priority unused: ${desc}`);
    t.diagnostic(
      `${desc.slice(0, desc.indexOf(':'))}: edge-1 ${(share(r, 'echo@edge-1') * 100).toFixed(1)} %, cloud-1 ${(share(r, 'echo@cloud-1') * 100).toFixed(1)} % of ${n}`,
    );
  });

  // The endpoint on edge-1 goes away (pod deleted): its slice empties and traffic moves, same streams.
  const e1 = api.get('EndpointSlice', 'echo-edge-1', 'shop')!;
  api.apply({ ...e1, endpoints: [] });
  for (const c of clients) await until(`${c.kind} off edge-1`, async () => share(await c.run(20), 'echo@cloud-1') === 1, 20_000, 0);
});

test('OpenFaaS function: proxima serve --openfaas sends xds:///figlet.openfaas-fn.svc.cluster.local to the local pod; /debug marks LRS-only', async (t) => {
  const pods = await startRevisionPods(['edge-1', 'cloud-1'].map((node) => ({ revision: 'figlet', node })));
  t.after(() => pods.close());
  const { api, url } = await standIn('openfaas-functions.yaml', 'openfaas-fn', 'figlet', 'http', pods.pods);
  t.after(() => api.stop());
  const serve = await serveKubernetes(url, { openfaas: { namespace: 'openfaas-fn', gateway: 'openfaas/gateway' }, lrsIntervalMs: 500 });
  t.after(() => serve.close());
  const gateways: GatewayClient[] = [];
  t.after(() => Promise.all(gateways.map((g) => g.close())));
  for (const node of ['edge-1', 'cloud-1'])
    gateways.push(
      await startClient('grpc-js', { xdsPort: portOf(serve.addresses.xds), node, target: 'xds:///figlet.openfaas-fn.svc.cluster.local' }),
    );
  // LRS takes a node's service time from steady reports (traffic at about the same rate in two
  // consecutive intervals), so traffic keeps flowing while we wait for the estimates.
  const view = await until(
    'LRS estimates for figlet',
    async () => {
      await Promise.all(gateways.map((g) => g.run(50)));
      const v = await getJson(serve, '/debug/assignments?service=openfaas-fn/figlet');
      const input = v.services['openfaas-fn/figlet']?.serviceTimeInput;
      return input?.byNode?.['edge-1']?.source === 'lrs' && input.byNode['cloud-1']?.source === 'lrs' ? v : false;
    },
    30_000,
    0,
  );
  // Measured once LRS has the real service time: before that Proxima plans with the 10 ms default,
  // and a sequential client at ~1,000 rps would look like 10 requests in flight against max_inflight 4.
  const runs = await Promise.all(gateways.map((g) => g.run(300)));
  const planned = JSON.stringify((await getJson(serve, '/debug/assignments?service=openfaas-fn/figlet')).services['openfaas-fn/figlet']);
  gateways.forEach((g, i) => {
    const r = runs[i]!;
    assert.deepEqual(r.errors, {}, `${g.node}: ${JSON.stringify(r)}`);
    assert.ok(share(r, `figlet@${g.node}`) >= 0.95, `${g.node} stays local: ${JSON.stringify(r)}; plan ${planned}`);
  });

  const figlet = view.services['openfaas-fn/figlet'];
  assert.equal(figlet.platform, 'openfaas');
  assert.equal(figlet.serviceTimeInput.estimate, 'lrs-only');
  assert.equal(figlet.serviceTimeInput.podSignals, 'none');
  assert.ok(figlet.serviceTimeInput.byNode['edge-1'].ms > 0);
  const source = await getJson(serve, '/debug/source');
  const report = source.workloads.find((w: any) => w.service === 'openfaas-fn/figlet');
  assert.deepEqual([report.capacity, report.capacitySource], [4, 'max_inflight']);
});
