/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * KIngress fixture → HttpRoute, field by field. The expectations are built from net-kourier's
 * translator (knative-extensions/net-kourier pkg/generator/ingress_translator.go at 37a0ffb and
 * pkg/envoy/api/{route,weighted_cluster,headers}.go): ClusterLocal rules only on the internal
 * listener, ExternalIP rules on both; empty path = "/"; exact header matches; splits to
 * `serviceNamespace/serviceName` with the split's appendHeaders; the path's appendHeaders on the
 * route; timeout 0; routes sorted longest-prefix-first (stable); h2c when a Service port is named
 * http2/h2c. The resulting routes then go through Proxima's own route builder
 * (src/xds/resources/routes.ts) and are encoded/decoded with Envoy's RouteConfiguration proto.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRoute } from '../src/model/types.js';
import { translateCluster } from '../src/sources/kubernetes/translate.js';
import { translateIngress, serviceInfoFromKube } from '../src/sources/kubernetes/ingress.js';
import { envoyProtos } from '../src/protos/envoy.js';
import { buildGatewayRouteConfigs } from '../src/xds/resources/routes.js';
import { clusterObjects, loadObjects } from './kube/fixtures.js';

const KOURIER = 'kourier.ingress.networking.knative.dev';
const REV = (rev: string) => ({ 'Knative-Serving-Namespace': 'default', 'Knative-Serving-Revision': rev });

function objects() {
  return clusterObjects([
    ...loadObjects('nodes.yaml'),
    ...loadObjects('hello-revisions.yaml'),
    ...loadObjects('hello-endpointslices-serve.yaml'),
    ...loadObjects('hello-ingress.yaml'),
  ]);
}

const tagRule = {
  pathPrefix: '/',
  headers: [{ name: 'Knative-Serving-Tag', exact: 'candidate' }],
  splits: [{ service: 'default/hello-00002', percent: 100, appendHeaders: REV('hello-00002') }],
  appendHeaders: {},
  timeoutMs: 0,
};
const defaultRule = {
  pathPrefix: '/',
  headers: [],
  splits: [
    { service: 'default/hello-00001', percent: 90, appendHeaders: REV('hello-00001') },
    { service: 'default/hello-00002', percent: 10, appendHeaders: REV('hello-00002') },
  ],
  appendHeaders: { 'Knative-Serving-Default-Route': 'true' },
  timeoutMs: 0,
};
const candidateRule = {
  pathPrefix: '/',
  headers: [],
  splits: [{ service: 'default/hello-00002', percent: 100, appendHeaders: REV('hello-00002') }],
  appendHeaders: { 'Knative-Serving-Tag': 'candidate' },
  timeoutMs: 0,
};

const EXPECTED: HttpRoute[] = [
  {
    name: 'default/hello#0',
    hosts: ['hello.default', 'hello.default.svc', 'hello.default.svc.cluster.local'],
    visibility: ['internal'],
    rules: [tagRule, defaultRule],
  },
  { name: 'default/hello#1', hosts: ['hello.default.example.com'], visibility: ['external', 'internal'], rules: [tagRule, defaultRule] },
  {
    name: 'default/hello#2',
    hosts: ['candidate-hello.default', 'candidate-hello.default.svc', 'candidate-hello.default.svc.cluster.local'],
    visibility: ['internal'],
    rules: [candidateRule],
  },
  { name: 'default/hello#3', hosts: ['candidate-hello.default.example.com'], visibility: ['external', 'internal'], rules: [candidateRule] },
];

test('k8s translate: hello KIngress → HttpRoutes as net-kourier builds its virtual hosts', () => {
  const t = translateCluster(objects(), { ingressClass: KOURIER, defaultCapacity: 7 });
  assert.equal(t.ingresses.length, 1);
  assert.deepEqual(t.ingresses[0]!.outcome, { kind: 'ok' });
  assert.equal(t.routes.length, EXPECTED.length);
  // probeHash: knative/networking ComputeHash of the KIngress (checked against upstream's own vectors in ingress-hash.test.ts).
  const hash = t.ingresses[0]!.probeHash;
  assert.match(hash, /^[0-9a-f]{64}$/);
  // The KIngress labels ride along: ext_authz context extensions (kourier-extauthz.test.ts).
  const ingressLabels = {
    'serving.knative.dev/route': 'hello',
    'serving.knative.dev/routeNamespace': 'default',
    'serving.knative.dev/service': 'hello',
  };
  EXPECTED.forEach((e, i) => assert.deepEqual(t.routes[i], { ...e, probeHash: hash, ingressLabels }, `route ${e.name}`));
});

test('k8s translate: services get endpoints, ports, capacity, protocol and hosts', () => {
  const t = translateCluster(objects(), { ingressClass: KOURIER, defaultCapacity: 7 });
  assert.deepEqual(
    t.nodes.map((n) => [n.name, n.zone, n.region, n.ready]),
    [
      ['cloud-1', 'cloud', 'eu-central', true],
      ['edge-1', 'edge-a', 'eu-west', true],
      ['edge-2', 'edge-b', 'eu-west', true],
    ],
  );
  const [s1, s2] = t.services;
  assert.equal(s1!.name, 'default/hello-00001');
  assert.equal(s1!.protocol, 'http');
  // containerConcurrency 0 → the configured default; port = targetPort of Service port 80 (8012).
  assert.deepEqual(s1!.endpoints, [
    { address: '10.1.1.5', port: 8012, node: 'edge-1', ready: true, capacity: 7 },
    { address: '10.1.3.5', port: 8012, node: 'cloud-1', ready: true, capacity: 7 },
  ]);
  assert.deepEqual(s1!.hosts, ['hello.default', 'hello.default.example.com', 'hello.default.svc', 'hello.default.svc.cluster.local']);
  assert.equal(s2!.name, 'default/hello-00002');
  // Terminating endpoint dropped; not-ready one kept as not ready; capacity = containerConcurrency 10.
  assert.deepEqual(s2!.endpoints, [
    { address: '10.1.1.8', port: 8012, node: 'edge-1', ready: false, capacity: 10 },
    { address: '10.1.2.7', port: 8012, node: 'edge-2', ready: true, capacity: 10 },
  ]);
  assert.ok(s2!.hosts.includes('candidate-hello.default.example.com'));
});

test('k8s translate: the routes build and encode as Envoy RouteConfigurations external_services / internal_services', () => {
  const t = translateCluster(objects(), { ingressClass: KOURIER, defaultCapacity: 7 });
  const configs = buildGatewayRouteConfigs(t.routes);
  const RouteConfiguration = envoyProtos().type('envoy.config.route.v3.RouteConfiguration');
  const decoded = new Map(
    configs.map((c) => {
      const msg = RouteConfiguration.fromObject(c.value);
      const bytes = RouteConfiguration.encode(msg).finish();
      return [c.name, RouteConfiguration.toObject(RouteConfiguration.decode(bytes), { defaults: false }) as any] as const;
    }),
  );
  const external = decoded.get('external_services');
  const internal = decoded.get('internal_services');
  assert.ok(external && internal);
  const vhost = (rc: any, host: string) => rc.virtual_hosts.find((v: any) => v.domains.includes(host));
  // ExternalIP hosts only on the external listener; ClusterLocal ones only internal (Kourier).
  assert.ok(vhost(external, 'hello.default.example.com'));
  assert.equal(vhost(external, 'hello.default.svc.cluster.local'), undefined);
  assert.ok(vhost(internal, 'hello.default.svc.cluster.local'));
  assert.ok(vhost(internal, 'hello.default.example.com'));
  const vh = vhost(external, 'hello.default.example.com');
  assert.deepEqual(vh.domains, ['hello.default.example.com', 'hello.default.example.com:*']);
  // Each rule comes with its Knative probe copy first (K-Network-Hash: override → the ingress hash).
  assert.equal(vh.routes.length, 4);
  const [tagProbe, tag, defProbe, def] = vh.routes;
  for (const [probe, real] of [
    [tagProbe, tag],
    [defProbe, def],
  ]) {
    assert.equal(probe.name, `${real.name}/probe`);
    assert.deepEqual(probe.match.headers.at(-1), { name: 'K-Network-Hash', string_match: { exact: 'override' } });
    assert.equal(probe.request_headers_to_add.find((h: any) => h.header.key === 'K-Network-Hash').header.value, t.ingresses[0]!.probeHash);
  }
  assert.equal(tag.match.prefix, '/');
  assert.deepEqual(
    tag.match.headers.map((h: any) => [h.name, h.string_match.exact]),
    [['Knative-Serving-Tag', 'candidate']],
  );
  assert.deepEqual(
    def.route.weighted_clusters.clusters.map((c: any) => [c.name, c.weight.value]),
    [
      ['default/hello-00001', 90],
      ['default/hello-00002', 10],
    ],
  );
  const revHeaders = def.route.weighted_clusters.clusters[0].request_headers_to_add.map((h: any) => [h.header.key, h.header.value]).sort();
  assert.deepEqual(revHeaders, [
    ['Knative-Serving-Namespace', 'default'],
    ['Knative-Serving-Revision', 'hello-00001'],
  ]);
  assert.deepEqual(
    def.request_headers_to_add.map((h: any) => [h.header.key, h.header.value]),
    [['Knative-Serving-Default-Route', 'true']],
  );
  assert.equal(def.route.upgrade_configs[0].upgrade_type, 'websocket');
});

const svcLookup =
  (ports: object[], type = 'ClusterIP') =>
  () =>
    serviceInfoFromKube({ metadata: { name: 's', namespace: 'ns' }, spec: { type, ports } });

function ingress(spec: object, annotations: Record<string, string> = { 'networking.knative.dev/ingress.class': KOURIER }) {
  return { metadata: { name: 'i', namespace: 'ns', generation: 3, annotations }, spec };
}
const split = (extra: object = {}) => ({ serviceNamespace: 'ns', serviceName: 's', servicePort: 80, percent: 100, ...extra });
const rule = (path: object, extra: object = {}) => ({ hosts: ['a.ns'], visibility: 'ExternalIP', http: { paths: [path] }, ...extra });

test('k8s translate: unsupported and pending ingresses are reported, never thrown', () => {
  const http = svcLookup([{ name: 'http', port: 80, targetPort: 8012 }]);
  const cases: [string, unknown, string, string][] = [
    [
      'header presence match',
      ingress({ rules: [rule({ headers: { 'X-A': {} }, splits: [split()] })] }),
      'unsupported',
      'UnsupportedHeaderMatch',
    ],
    [
      'tls without secret name',
      ingress({ tls: [{ hosts: ['a.ns'], secretNamespace: 'ns' }], rules: [rule({ splits: [split()] })] }),
      'unsupported',
      'InvalidIngress',
    ],
    [
      'percent sum',
      ingress({ rules: [rule({ splits: [split({ percent: 60 }), split({ percent: 30 })] })] }),
      'unsupported',
      'InvalidIngress',
    ],
    ['no spec', { metadata: { name: 'i', namespace: 'ns' } }, 'unsupported', 'InvalidIngress'],
    ['rules not a list', ingress({ rules: 'x' }), 'unsupported', 'InvalidIngress'],
    ['split without name', ingress({ rules: [rule({ splits: [{ percent: 100 }] })] }), 'unsupported', 'InvalidIngress'],
    ['bad visibility', ingress({ rules: [rule({ splits: [split()] }, { visibility: 'Public' })] }), 'unsupported', 'InvalidIngress'],
  ];
  for (const [what, ing, kind, reason] of cases) {
    const t = translateIngress(ing, http);
    assert.equal(t.outcome.kind, kind, what);
    assert.equal((t.outcome as { reason: string }).reason, reason, what);
    assert.deepEqual(t.routes, [], what);
  }
  const ext = translateIngress(ingress({ rules: [rule({ splits: [split()] })] }), svcLookup([{ name: 'http', port: 80 }], 'ExternalName'));
  assert.equal((ext.outcome as { reason: string }).reason, 'InvalidExternalName', 'ExternalName without spec.externalName');
  const pending = translateIngress(ingress({ rules: [rule({ splits: [split()] })] }), () => undefined);
  assert.equal(pending.outcome.kind, 'pending');
});

test('k8s translate: Kourier defaults — no hosts is *, empty path is /, lone split 100 %, h2c by port name, longest prefix first', () => {
  const t = translateIngress(
    ingress({
      rules: [
        {
          http: {
            paths: [
              { splits: [{ serviceNamespace: 'ns', serviceName: 's', servicePort: 80 }] },
              { path: '/.well-known/acme-challenge/x', splits: [split()] },
            ],
          },
        },
      ],
    }),
    svcLookup([{ name: 'http2', port: 80, targetPort: 8013 }]),
  );
  assert.deepEqual(t.outcome, { kind: 'ok' });
  const r = t.routes[0]!;
  assert.deepEqual(r.hosts, ['*']);
  assert.deepEqual(r.visibility, ['external', 'internal']);
  assert.deepEqual(
    r.rules.map((x) => x.pathPrefix),
    ['/.well-known/acme-challenge/x', '/'],
  );
  assert.equal(r.rules[1]!.splits[0]!.percent, 100);
  assert.deepEqual(t.backends, [{ service: 'ns/s', namespace: 'ns', name: 's', portName: 'http2', targetPort: 8013, protocol: 'h2c' }]);
  const off = translateIngress(
    ingress(
      { rules: [rule({ splits: [split()] })] },
      { 'networking.knative.dev/ingress.class': KOURIER, 'kourier.knative.dev/disable-http2': 'true' },
    ),
    svcLookup([{ name: 'h2c', port: 80, targetPort: 8013 }]),
  );
  assert.equal(off.backends[0]!.protocol, 'http');
});

test('k8s translate: ingress class filter (new and old annotation spelling), missing fields counted', () => {
  const base = objects();
  const other = {
    ...base.ingresses[0]!,
    metadata: {
      ...base.ingresses[0]!['metadata'],
      name: 'other',
      annotations: { 'networking.knative.dev/ingress.class': 'istio.ingress.networking.knative.dev' },
    },
  };
  const old = {
    ...base.ingresses[0]!,
    metadata: { ...base.ingresses[0]!['metadata'], name: 'old', annotations: { 'networking.knative.dev/ingress-class': KOURIER } },
  };
  const none = { ...base.ingresses[0]!, metadata: { name: 'none', namespace: 'default' } };
  const t = translateCluster(
    { ...base, ingresses: [...base.ingresses, other, old, none, { spec: {} }], nodes: [...base.nodes, { metadata: {} }, null] },
    { ingressClass: KOURIER, defaultCapacity: 1 },
  );
  assert.deepEqual(
    t.ingresses.map((i) => i.key),
    ['default/hello', 'default/old'],
  );
  assert.equal(t.ignoredIngresses, 3);
  assert.equal(t.invalidObjects, 2);
  assert.equal(t.nodes.length, 3);
});

test('k8s translate: endpoints on unknown nodes are left out and counted, and appear with the node', () => {
  const base = objects();
  const nodes = base.nodes.filter((n) => n['metadata'].name !== 'cloud-1');
  const missing = {
    ...base.endpointSlices[0]!,
    endpoints: [...base.endpointSlices[0]!['endpoints'], { addresses: ['10.9.9.9'], conditions: { ready: true } }],
  };
  const t = translateCluster(
    { ...base, nodes, endpointSlices: [missing, base.endpointSlices[1]!] },
    { ingressClass: KOURIER, defaultCapacity: 1 },
  );
  assert.deepEqual(t.endpoints, { unknownNode: 1, missingNode: 1, skippedSlices: 0 });
  assert.deepEqual(
    t.services[0]!.endpoints.map((e) => e.address),
    ['10.1.1.5'],
  );
  const again = translateCluster(base, { ingressClass: KOURIER, defaultCapacity: 1 });
  assert.deepEqual(
    again.services[0]!.endpoints.map((e) => e.node),
    ['edge-1', 'cloud-1'],
  );
});
