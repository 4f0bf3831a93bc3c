/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes and Envoy JSON */
/**
 * Beyond Knative: recorded plain Services (test/kube/fixtures/plain-services.yaml) and OpenFaaS
 * functions as faas-netes creates them (test/kube/fixtures/openfaas-functions.yaml, cited there) →
 * model services and routes (translate.ts), then Envoy RouteConfigurations encoded and decoded with
 * Envoy's own proto. The expected OpenFaaS paths come from the OpenFaaS gateway and provider:
 * openfaas/faas gateway/main.go routes `/function/{name}`, `/function/{name}/` and
 * `/function/{name}/{params:.*}`; openfaas/faas-provider proxy/proxy.go `buildProxyRequest` calls
 * the function with path `params` (so `/`), query kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRoute } from '../src/model/types.js';
import { translateCluster, type ClusterObjects } from '../src/sources/kubernetes/translate.js';
import { envoyProtos } from '../src/protos/envoy.js';
import { buildGatewayRouteConfigs, buildGrpcRouteConfigs } from '../src/xds/resources/routes.js';
import { buildApiListeners } from '../src/xds/resources/listeners.js';
import { buildEndpoints, buildShared, DEFAULT_BUILD_OPTIONS } from '../src/xds/resources/index.js';
import { ModelStore } from '../src/model/store.js';
import { AssignmentEngine } from '../src/engine/assignments.js';
import { proximaPolicy } from '../src/policy/proxima.js';
import { clusterObjects, loadObjects } from './kube/fixtures.js';

const KOURIER = 'kourier.ingress.networking.knative.dev';
const OPENFAAS = { namespace: 'openfaas-fn', gateway: 'openfaas/gateway' };

function objects(files: string[]): ClusterObjects {
  return clusterObjects(files.flatMap((f) => loadObjects(f)));
}

function decodeRoutes(routes: readonly HttpRoute[]): Map<string, any> {
  const RouteConfiguration = envoyProtos().type('envoy.config.route.v3.RouteConfiguration');
  return new Map(
    [...buildGatewayRouteConfigs(routes), ...buildGrpcRouteConfigs(routes)].map((c) => {
      const msg = RouteConfiguration.fromObject(c.value);
      assert.equal(RouteConfiguration.verify(msg), null, c.name);
      const bytes = RouteConfiguration.encode(msg).finish();
      return [c.name, RouteConfiguration.toObject(RouteConfiguration.decode(bytes), { defaults: false })] as const;
    }),
  );
}

const vhost = (config: any, name: string) => config.virtual_hosts.find((v: any) => v.name === name);

test('plain Services: opted-in Services become services with EndpointSlice endpoints, pod capacities and host/path routes', () => {
  const t = translateCluster(objects(['nodes.yaml', 'plain-services.yaml']), { ingressClass: KOURIER, defaultCapacity: 3 });
  assert.deepEqual(
    t.services.map((s) => s.name),
    ['shop/cart', 'shop/echo'],
  );
  const echo = t.services.find((s) => s.name === 'shop/echo')!;
  assert.equal(echo.platform, 'service');
  assert.equal(echo.protocol, 'grpc', 'port named grpc');
  assert.deepEqual(echo.hosts, ['echo.example.com', 'echo.shop', 'echo.shop.svc', 'echo.shop.svc.cluster.local']);
  // 10.1.1.50 is in both slices (once); 10.1.2.50 not ready; 10.1.2.51 terminating while others are ready.
  assert.deepEqual(
    echo.endpoints.map((e) => [e.address, e.port, e.node, e.ready, e.capacity]),
    [
      ['10.1.1.50', 9000, 'edge-1', true, 8],
      ['10.1.2.50', 9000, 'edge-2', false, 8],
      ['10.1.2.51', 9000, 'edge-2', false, 8],
      ['10.1.3.50', 9000, 'cloud-1', true, 8],
    ],
  );
  const cart = t.services.find((s) => s.name === 'shop/cart')!;
  assert.equal(cart.protocol, 'http');
  assert.deepEqual(
    cart.endpoints.map((e) => [e.address, e.port, e.node, e.capacity]),
    [['10.1.2.60', 8080, 'edge-2', 6]],
    'the slice port named like proxima.dev/port, capacity from max_inflight',
  );

  const reports = Object.fromEntries(t.workloads.map((r) => [r.service, r]));
  assert.equal(reports['shop/echo']!.capacitySource, 'pod-annotation');
  assert.equal(reports['shop/cart']!.capacitySource, 'max_inflight');
  assert.match(reports['shop/payments']!.outcome, /ExternalName/);
  assert.equal(reports['shop/db'], undefined, 'not opted in');
  assert.deepEqual(
    reports['shop/echo']!.zoneHints!.map((h) => [h.address, h.forZones]),
    [
      ['10.1.1.50', ['edge-a']],
      ['10.1.2.50', ['edge-b']],
      ['10.1.3.50', ['cloud']],
    ],
  );

  assert.deepEqual(
    t.routes.map((r) => [r.name, r.hosts, r.visibility, r.rules.map((x) => [x.pathPrefix, x.splits[0]!.service])]),
    [
      ['service:shop/cart#external', ['api.example.com'], ['external', 'internal'], [['/cart', 'shop/cart']]],
      ['service:shop/cart#internal', ['cart.shop.svc.cluster.local', 'cart.shop.svc', 'cart.shop'], ['internal'], [['/cart', 'shop/cart']]],
      ['service:shop/echo#external', ['echo.example.com'], ['external', 'internal'], [['/', 'shop/echo']]],
      ['service:shop/echo#internal', ['echo.shop.svc.cluster.local', 'echo.shop.svc', 'echo.shop'], ['internal'], [['/', 'shop/echo']]],
    ],
  );

  const decoded = decodeRoutes(t.routes);
  const external = decoded.get('external_services');
  assert.deepEqual(
    external.virtual_hosts.map((v: any) => v.name),
    ['api.example.com', 'echo.example.com'],
    'cluster-local hosts stay off the external listener',
  );
  const api = vhost(external, 'api.example.com');
  assert.deepEqual(api.domains, ['api.example.com', 'api.example.com:*']);
  assert.deepEqual(api.routes[0].match, { prefix: '/cart' });
  assert.deepEqual(
    api.routes[0].route.weighted_clusters.clusters.map((c: any) => [c.name, c.weight.value]),
    [['shop/cart', 100]],
  );
  const internal = decoded.get('internal_services');
  assert.ok(vhost(internal, 'echo.shop.svc.cluster.local'), 'cluster-local host on the internal listener');
  // gRPC proxyless: an API listener and a route configuration per host.
  const grpcEcho = decoded.get('echo.shop.svc.cluster.local');
  assert.deepEqual(grpcEcho.virtual_hosts[0].routes[0].route, { cluster: 'shop/echo' });
  assert.ok(buildApiListeners(t.routes).some((l) => l.name === 'echo.shop.svc.cluster.local'));
});

test('OpenFaaS: faas-netes functions get /function/NAME routes stripped to /, the gateway keeps async and the rest', () => {
  const t = translateCluster(objects(['nodes.yaml', 'openfaas-functions.yaml']), {
    ingressClass: KOURIER,
    defaultCapacity: 3,
    openfaas: OPENFAAS,
  });
  assert.deepEqual(
    t.services.map((s) => [s.name, s.platform, s.protocol]),
    [
      ['openfaas-fn/figlet', 'openfaas', 'http'],
      ['openfaas-fn/nodeinfo', 'openfaas', 'http'],
      ['openfaas-fn/sleep', 'openfaas', 'http'],
      ['openfaas/gateway', 'openfaas', 'http'],
    ],
  );
  const ep = (name: string) => t.services.find((s) => s.name === name)!.endpoints.map((e) => [e.address, e.port, e.node, e.capacity]);
  assert.deepEqual(ep('openfaas-fn/figlet'), [
    ['10.1.1.21', 8080, 'edge-1', 4],
    ['10.1.3.21', 8080, 'cloud-1', 4],
  ]);
  assert.deepEqual(ep('openfaas-fn/nodeinfo'), [['10.1.2.31', 8080, 'edge-2', 3]], 'no max_inflight: the default');
  assert.deepEqual(ep('openfaas-fn/sleep'), [], 'scaled to zero');
  const reports = Object.fromEntries(t.workloads.map((r) => [r.service, r]));
  assert.equal(reports['openfaas-fn/figlet']!.capacitySource, 'max_inflight');
  assert.equal(reports['openfaas-fn/nodeinfo']!.capacitySource, 'default');

  const names = t.routes.map((r) => r.name);
  assert.ok(names.includes('openfaas:openfaas-fn/figlet#function'));
  assert.ok(!names.includes('openfaas:openfaas-fn/sleep#function'), 'scaled to zero: left to the OpenFaaS gateway, which scales from zero');
  assert.ok(names.includes('openfaas:openfaas-fn/sleep#internal'));

  const decoded = decodeRoutes(t.routes);
  for (const config of ['external_services', 'internal_services']) {
    const any = vhost(decoded.get(config), '*');
    assert.deepEqual(any.domains, ['*']);
    const byMatch = new Map(any.routes.map((r: any) => [JSON.stringify(r.match), r]));
    for (const id of ['figlet', 'figlet.openfaas-fn', 'nodeinfo', 'nodeinfo.openfaas-fn']) {
      const exact: any = byMatch.get(JSON.stringify({ path: `/function/${id}` }));
      const prefix: any = byMatch.get(JSON.stringify({ prefix: `/function/${id}/` }));
      const cluster = `openfaas-fn/${id.split('.')[0]}`;
      assert.ok(exact && prefix, `${config}: routes for /function/${id}`);
      for (const r of [exact, prefix]) {
        assert.equal(r.route.prefix_rewrite, '/');
        assert.deepEqual(
          r.route.weighted_clusters.clusters.map((c: any) => c.name),
          [cluster],
        );
      }
    }
    // The catch-all is last, so every /function/ route wins over it; async calls reach the OpenFaaS gateway.
    const last = any.routes[any.routes.length - 1];
    assert.deepEqual(last.match, { prefix: '/' });
    assert.equal(last.route.prefix_rewrite, undefined);
    assert.deepEqual(
      last.route.weighted_clusters.clusters.map((c: any) => c.name),
      ['openfaas/gateway'],
    );
    assert.equal(byMatch.get(JSON.stringify({ path: '/function/sleep' })), undefined);
  }
  // gRPC clients cannot rewrite: no /function/ routes in gRPC route configurations, but the
  // function's own Service host is there for xds:///figlet.openfaas-fn.svc.cluster.local.
  assert.deepEqual(decoded.get('figlet.openfaas-fn.svc.cluster.local').virtual_hosts[0].routes[0].route, { cluster: 'openfaas-fn/figlet' });
  assert.ok(decoded.get('*').virtual_hosts[0].routes.every((r: any) => !String(r.match.path ?? r.match.prefix).startsWith('/function/')));
});

test('OpenFaaS: a function coming back from zero gets its /function/ routes back; without a gateway Service they always exist', () => {
  const objs = objects(['nodes.yaml', 'openfaas-functions.yaml']);
  const woken = (objs.endpointSlices as any[]).map((s) =>
    s.metadata.name === 'sleep-b8w2n'
      ? { ...s, endpoints: [{ addresses: ['10.1.2.70'], conditions: { ready: true }, nodeName: 'edge-2' }] }
      : s,
  );
  const names = (t: ReturnType<typeof translateCluster>) => t.routes.map((r) => r.name);
  const up = translateCluster({ ...objs, endpointSlices: woken }, { ingressClass: KOURIER, defaultCapacity: 3, openfaas: OPENFAAS });
  assert.ok(names(up).includes('openfaas:openfaas-fn/sleep#function'));
  const noGateway = translateCluster(objs, { ingressClass: KOURIER, defaultCapacity: 3, openfaas: { ...OPENFAAS, gateway: '' } });
  assert.ok(names(noGateway).includes('openfaas:openfaas-fn/sleep#function'), 'nobody else could scale it: Envoy answers 503');
  assert.ok(!names(noGateway).includes('openfaas:openfaas/gateway'));
  assert.ok(!noGateway.services.some((s) => s.name === 'openfaas/gateway'));
});

test('OpenFaaS off: functions are not translated; a function Service that opts in is a plain Service', () => {
  const objs = objects(['nodes.yaml', 'openfaas-functions.yaml']);
  const off = translateCluster(objs, { ingressClass: KOURIER, defaultCapacity: 3 });
  assert.deepEqual(off.services, []);
  const figlet = (objs.services as any[]).find((s) => s.metadata.name === 'figlet');
  const labelled = { ...figlet, metadata: { ...figlet.metadata, labels: { 'proxima.dev/route': 'true' } } };
  const plain = translateCluster({ ...objs, services: [labelled] }, { ingressClass: KOURIER, defaultCapacity: 3 });
  assert.deepEqual(
    plain.services.map((s) => [s.name, s.platform, s.endpoints.length, s.endpoints[0]!.capacity]),
    [['openfaas-fn/figlet', 'service', 2, 4]],
  );
  assert.ok(plain.routes.every((r) => !r.hosts.includes('*')));
});

test('plain Services: bad annotations are reported, never thrown; the rest still translates', () => {
  const objs = objects(['nodes.yaml', 'plain-services.yaml']);
  const bad = (name: string, annotations: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop', labels: { 'proxima.dev/route': 'true' }, annotations },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }] },
  });
  const t = translateCluster(
    {
      ...objs,
      services: [
        ...objs.services,
        bad('a', { 'proxima.dev/hosts': 'ok.example.com, bad_host!' }),
        bad('b', { 'proxima.dev/path-prefix': 'no-slash' }),
        bad('c', { 'proxima.dev/port': 'nope' }),
        bad('d', { 'proxima.dev/capacity': '-3' }),
        { kind: 'Service', metadata: { name: 'e', namespace: 'shop', labels: { 'proxima.dev/route': 'true' } }, spec: 'garbage' },
        { kind: 'Service', metadata: 'garbage' },
      ],
      endpointSlices: [...objs.endpointSlices, { kind: 'EndpointSlice', metadata: { name: 'x', namespace: 'shop' }, endpoints: 7 }],
    },
    { ingressClass: KOURIER, defaultCapacity: 3 },
  );
  const reports = Object.fromEntries(t.workloads.map((r) => [r.service, r.outcome]));
  assert.match(reports['shop/a']!, /invalid proxima.dev\/hosts: bad_host!$/);
  assert.match(reports['shop/b']!, /does not start with \//);
  assert.match(reports['shop/c']!, /no port matches/);
  assert.equal(reports['shop/d'], 'ok', 'a bad capacity falls back to the default');
  assert.match(reports['shop/e']!, /no ports/);
  assert.deepEqual(
    t.services.map((s) => s.name),
    ['shop/cart', 'shop/d', 'shop/echo'],
  );
});

test('per-gateway EDS and API listeners for recorded OpenFaaS functions and plain Services (proxima policy)', () => {
  const t = translateCluster(objects(['nodes.yaml', 'openfaas-functions.yaml', 'plain-services.yaml']), {
    ingressClass: KOURIER,
    defaultCapacity: 3,
    openfaas: OPENFAAS,
  });
  const store = new ModelStore();
  for (const n of t.nodes) store.upsertNode(n);
  for (const s of t.services) store.upsertService(s);
  store.setRoutes(t.routes);
  const now = Date.now();
  store.setMeasuredRtt(
    'edge-2',
    [
      { to: 'edge-1', rttMs: 10, reachable: true },
      { to: 'cloud-1', rttMs: 60, reachable: true },
    ],
    now,
  );
  store.setMeasuredRtt(
    'edge-1',
    [
      { to: 'edge-2', rttMs: 10, reachable: true },
      { to: 'cloud-1', rttMs: 50, reachable: true },
    ],
    now,
  );
  store.setMeasuredRtt(
    'cloud-1',
    [
      { to: 'edge-1', rttMs: 50, reachable: true },
      { to: 'edge-2', rttMs: 60, reachable: true },
    ],
    now,
  );
  const engine = new AssignmentEngine({ store, policy: proximaPolicy, nowMs: () => now });
  engine.start();

  const Cla = envoyProtos().type('envoy.config.endpoint.v3.ClusterLoadAssignment');
  const eds = (service: string, gateway: string): any => {
    const r = buildEndpoints(store, service, engine.get(service, gateway), DEFAULT_BUILD_OPTIONS);
    const msg = Cla.fromObject(r.value);
    assert.equal(Cla.verify(msg), null);
    return Cla.toObject(Cla.decode(Cla.encode(msg).finish()), { defaults: false });
  };
  const levels = (cla: any) =>
    cla.endpoints.map((l: any) => [
      l.priority ?? 0,
      l.locality.sub_zone,
      l.lb_endpoints.map((e: any) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`),
    ]);
  // figlet runs on edge-1 and cloud-1: each of them keeps its traffic; edge-2 sends to the nearer edge-1.
  assert.deepEqual(levels(eds('openfaas-fn/figlet', 'edge-1')), [
    [0, 'edge-1', ['10.1.1.21:8080']],
    [1, 'cloud-1', ['10.1.3.21:8080']],
  ]);
  assert.deepEqual(levels(eds('openfaas-fn/figlet', 'cloud-1')), [
    [0, 'cloud-1', ['10.1.3.21:8080']],
    [1, 'edge-1', ['10.1.1.21:8080']],
  ]);
  assert.deepEqual(levels(eds('openfaas-fn/figlet', 'edge-2')), [
    [0, 'edge-1', ['10.1.1.21:8080']],
    [1, 'cloud-1', ['10.1.3.21:8080']],
  ]);
  // A scaled-to-zero function has no endpoints anywhere (its /function/ routes went to the OpenFaaS gateway).
  assert.deepEqual(eds('openfaas-fn/sleep', 'edge-1').endpoints ?? [], []);
  // The plain Service: the not-ready and terminating pods on edge-2 are never sent traffic.
  assert.deepEqual(levels(eds('shop/echo', 'edge-2')), [
    [0, 'edge-1', ['10.1.1.50:9000']],
    [1, 'cloud-1', ['10.1.3.50:9000']],
  ]);
  for (const cla of [eds('shop/echo', 'edge-1'), eds('openfaas-fn/figlet', 'edge-1')]) {
    assert.equal(cla.endpoints[0].locality.zone, 'edge-a');
    assert.equal(cla.endpoints[0].locality.region, 'eu-west');
  }

  // Listeners: Kourier's two gateway listeners, and an API listener per host for proxyless gRPC.
  const shared = buildShared(store, DEFAULT_BUILD_OPTIONS);
  assert.deepEqual(
    shared.listeners.map((l) => l.name),
    ['listener_8080', 'listener_8081', 'listener_8090'],
  );
  const Listener = envoyProtos().type('envoy.config.listener.v3.Listener');
  const api = shared.apiListeners.find((l) => l.name === 'figlet.openfaas-fn.svc.cluster.local');
  assert.ok(api, 'API listener for xds:///figlet.openfaas-fn.svc.cluster.local');
  const decoded: any = Listener.toObject(Listener.decode(Listener.encode(Listener.fromObject(api.value)).finish()), { defaults: false });
  assert.ok(decoded.api_listener.api_listener, 'api_listener carries an HttpConnectionManager');
  for (const host of [
    'echo.shop.svc.cluster.local',
    'echo.shop.svc.cluster.local:80',
    'echo.example.com',
    'nodeinfo.openfaas-fn.svc.cluster.local',
  ])
    assert.ok(
      shared.apiListeners.some((l) => l.name === host),
      host,
    );
  assert.deepEqual(
    shared.clusters.map((c) => c.name),
    ['openfaas-fn/figlet', 'openfaas-fn/nodeinfo', 'openfaas-fn/sleep', 'openfaas/gateway', 'shop/cart', 'shop/echo'],
  );
  engine.stop();
});
