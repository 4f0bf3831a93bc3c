/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy JSON */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRoute } from '../../model/types.js';
import { buildGatewayRouteConfigs, buildGrpcRouteConfigs, domainsForHost } from './routes.js';
import { strictErrors } from './fixtures.js';

const split = (service: string, percent: number, appendHeaders: Record<string, string> = {}) => ({ service, percent, appendHeaders });

const kingress: HttpRoute = {
  name: 'ns/hello',
  hosts: ['hello.ns.example.com', 'hello.ns.svc.cluster.local'],
  visibility: ['external', 'internal'],
  rules: [
    {
      pathPrefix: '/',
      headers: [],
      splits: [
        split('ns/hello-00001', 70, { 'Knative-Serving-Revision': 'hello-00001', 'Knative-Serving-Namespace': 'ns' }),
        split('ns/hello-00002', 30, { 'Knative-Serving-Revision': 'hello-00002', 'Knative-Serving-Namespace': 'ns' }),
      ],
      appendHeaders: { 'K-Original-Host': 'hello.ns.example.com' },
      timeoutMs: 0,
    },
    {
      pathPrefix: '/api',
      headers: [{ name: 'x-canary', exact: 'yes' }],
      splits: [split('ns/hello-00002', 100)],
      appendHeaders: {},
      timeoutMs: 1500,
    },
  ],
};
const internalOnly: HttpRoute = {
  name: 'ns/private',
  hosts: ['private.ns.svc.cluster.local'],
  visibility: ['internal'],
  rules: [{ pathPrefix: '', headers: [], splits: [split('ns/private', 100)], appendHeaders: {}, timeoutMs: 0 }],
};

function configs() {
  const [external, internal] = buildGatewayRouteConfigs([kingress, internalOnly]) as [any, any];
  return { external: external.value, internal: internal.value, raw: [external, internal] };
}

test('external_services holds only external hosts; internal_services adds internalkourier', () => {
  const { external, internal } = configs();
  assert.equal(external.name, 'external_services');
  assert.deepEqual(
    external.virtual_hosts.map((v: any) => v.name),
    ['hello.ns.example.com', 'hello.ns.svc.cluster.local'],
  );
  assert.equal(internal.name, 'internal_services');
  assert.deepEqual(
    internal.virtual_hosts.map((v: any) => v.name),
    ['hello.ns.example.com', 'hello.ns.svc.cluster.local', 'private.ns.svc.cluster.local', 'internalkourier'],
  );
  const ready = internal.virtual_hosts.at(-1);
  assert.deepEqual(ready.domains, ['internalkourier']);
  assert.deepEqual(ready.routes[0].match, { prefix: '/ready' });
  assert.deepEqual(ready.routes[0].direct_response, { status: 200 });
});

test('virtual host domains are host and host:*', () => {
  const { external } = configs();
  assert.deepEqual(external.virtual_hosts[0].domains, domainsForHost('hello.ns.example.com'));
  assert.deepEqual(domainsForHost('a.b'), ['a.b', 'a.b:*']);
  assert.deepEqual(domainsForHost('*'), ['*'], 'the catch-all matches every authority');
});

test('routes: longest prefix first, header match, weighted splits with per-split headers, timeout, websocket', () => {
  const { external } = configs();
  const [api, root] = external.virtual_hosts[0].routes;
  assert.deepEqual(api.match, { prefix: '/api', headers: [{ name: 'x-canary', string_match: { exact: 'yes' } }] });
  assert.deepEqual(api.route.timeout, { seconds: 1, nanos: 500_000_000 });
  assert.deepEqual(root.match, { prefix: '/' });
  assert.deepEqual(root.route.timeout, { seconds: 0, nanos: 0 }, 'timeout 0 = none, set explicitly like Kourier');
  assert.deepEqual(root.route.upgrade_configs, [{ upgrade_type: 'websocket', enabled: { value: true } }]);
  const clusters = root.route.weighted_clusters.clusters;
  assert.deepEqual(
    clusters.map((c: any) => [c.name, c.weight.value]),
    [
      ['ns/hello-00001', 70],
      ['ns/hello-00002', 30],
    ],
  );
  assert.deepEqual(clusters[0].request_headers_to_add, [
    { header: { key: 'Knative-Serving-Namespace', value: 'ns' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    { header: { key: 'Knative-Serving-Revision', value: 'hello-00001' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
  ]);
  assert.deepEqual(root.request_headers_to_add, [
    { header: { key: 'K-Original-Host', value: 'hello.ns.example.com' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
  ]);
});

test('routes sharing a host merge into one virtual host', () => {
  const other: HttpRoute = {
    ...internalOnly,
    name: 'ns/other',
    hosts: ['hello.ns.example.com'],
    visibility: ['external'],
    rules: [{ ...internalOnly.rules[0]!, pathPrefix: '/other' }],
  };
  const [external] = buildGatewayRouteConfigs([kingress, other]) as [any];
  const vh = external.value.virtual_hosts.filter((v: any) => v.domains.includes('hello.ns.example.com'));
  assert.equal(vh.length, 1);
  assert.deepEqual(
    vh[0].routes.map((r: any) => r.match.prefix),
    ['/other', '/api', '/'],
  );
});

test('gRPC route configs: one per host, minimal actions only', () => {
  const grpc = buildGrpcRouteConfigs([
    kingress,
    { ...internalOnly, rules: [{ ...internalOnly.rules[0]!, splits: [split('ns/private', 100), split('ns/zero', 0)] }] },
  ]);
  assert.deepEqual(
    grpc.map((r) => r.name),
    ['hello.ns.example.com', 'hello.ns.svc.cluster.local', 'private.ns.svc.cluster.local'],
  );
  const hello = grpc[0]!.value as any;
  assert.equal(hello.virtual_hosts.length, 1);
  const [api, root] = hello.virtual_hosts[0].routes;
  assert.deepEqual(api.route, { cluster: 'ns/hello-00002' });
  assert.deepEqual(root.route, {
    weighted_clusters: {
      clusters: [
        { name: 'ns/hello-00001', weight: { value: 70 } },
        { name: 'ns/hello-00002', weight: { value: 30 } },
      ],
    },
  });
  for (const r of hello.virtual_hosts[0].routes) {
    assert.equal(r.request_headers_to_add, undefined);
    assert.equal(r.route.upgrade_configs, undefined);
  }
  const priv = grpc[2]!.value as any;
  assert.deepEqual(priv.virtual_hosts[0].routes[0].route, { cluster: 'ns/private' }, 'zero-weight splits are left out for gRPC');
  for (const r of grpc) assert.deepEqual(strictErrors(r), []);
});

test('gRPC weighted clusters: total_weight set to the sum when it is not 100 (old C-core checks it)', () => {
  const thirds: HttpRoute = {
    ...internalOnly,
    rules: [{ ...internalOnly.rules[0]!, splits: [split('ns/a', 33.3), split('ns/b', 33.3), split('ns/c', 33.4)] }],
  };
  const [r] = buildGrpcRouteConfigs([thirds]);
  const wc = (r!.value as any).virtual_hosts[0].routes[0].route.weighted_clusters;
  assert.deepEqual(wc.total_weight, { value: 99 });
  assert.deepEqual(
    wc.clusters.map((c: any) => c.weight.value),
    [33, 33, 33],
  );
  assert.deepEqual(strictErrors(r!), []);
});

test('all route configurations decode strictly', () => {
  for (const r of configs().raw) assert.deepEqual(strictErrors(r), []);
});
