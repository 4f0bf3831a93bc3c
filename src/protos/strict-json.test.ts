/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy JSON */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStrict } from './strict-json.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

const goodBootstrap = {
  node: { id: 'gw', cluster: 'c', locality: { subZone: 'edge-1' } },
  dynamicResources: {
    adsConfig: { apiType: 'GRPC', transportApiVersion: 'V3', grpcServices: [{ envoyGrpc: { clusterName: 'xds_cluster' } }] },
    cdsConfig: { resourceApiVersion: 'V3', ads: {} },
    lds_config: { resource_api_version: 'V3', ads: {} },
  },
  static_resources: {
    clusters: [
      {
        name: 'xds_cluster',
        type: 'STRICT_DNS',
        connect_timeout: '0.25s',
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '5s' } } },
          },
        },
        load_assignment: {
          cluster_name: 'xds_cluster',
          endpoints: [
            {
              lb_endpoints: [
                { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 18000 } } }, load_balancing_weight: 3 },
              ],
            },
          ],
        },
        metadata: { filter_metadata: { 'proxima.io': { tier: 'edge', weights: [1, 2.5, null], nested: { ok: true } } } },
      },
    ],
    listeners: [
      {
        name: 'l',
        address: { socket_address: { address: '0.0.0.0', port_value: 9000 } },
        filter_chains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.http_connection_manager',
                typed_config: {
                  '@type': HCM,
                  stat_prefix: 's',
                  http_filters: [
                    {
                      name: 'envoy.filters.http.router',
                      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
                    },
                  ],
                  route_config: {
                    virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200 } }] }],
                  },
                  stream_idle_timeout: '0s',
                  use_remote_address: true,
                },
              },
            ],
          },
        ],
      },
    ],
  },
  admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } },
};

test('good bootstrap decodes (camelCase and snake_case, Duration, wrappers, Struct, nested Any)', () => {
  const r = decodeStrict('envoy.config.bootstrap.v3.Bootstrap', goodBootstrap);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  const m = r.message.toJSON() as any;
  assert.equal(m.node.locality.sub_zone, 'edge-1');
  assert.deepEqual(m.static_resources.clusters[0].connect_timeout, { seconds: '0', nanos: 250_000_000 });
  assert.deepEqual(m.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].load_balancing_weight, { value: 3 });
  const any = m.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  assert.equal(any['@type'], HCM);
  assert.equal(any.stat_prefix, 's');
  assert.deepEqual(any.use_remote_address, { value: true });
  const meta = m.static_resources.clusters[0].metadata.filter_metadata['proxima.io'].fields;
  assert.equal(meta.tier.stringValue, 'edge');
  assert.equal(meta.weights.listValue.values[1].numberValue, 2.5);
});

function errorsOf(patch: (b: any) => void, typeName = 'envoy.config.bootstrap.v3.Bootstrap'): string[] {
  const b = structuredClone(goodBootstrap) as any;
  patch(b);
  const r = decodeStrict(typeName, b);
  return r.ok ? [] : r.errors;
}

const bad: Array<{ name: string; patch: (b: any) => void; want: RegExp }> = [
  { name: 'unknown top-level field', patch: (b) => (b.statsFlushIntervall = '5s'), want: /^statsFlushIntervall: unknown field/ },
  {
    name: 'unknown field at depth',
    patch: (b) =>
      (b.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.portValue2 = 1),
    want: /^static_resources\.clusters\[0\]\.load_assignment\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.portValue2: unknown field "portValue2" in envoy\.config\.core\.v3\.SocketAddress/,
  },
  {
    name: 'unknown field inside an Any',
    patch: (b) => (b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx = 'x'),
    want: /filters\[0\]\.typed_config\.stat_prefx: unknown field "stat_prefx" in envoy\.extensions\.filters\.network\.http_connection_manager\.v3\.HttpConnectionManager/,
  },
  {
    name: 'bad enum',
    patch: (b) => (b.static_resources.clusters[0].type = 'STRICT_DNZ'),
    want: /^static_resources\.clusters\[0\]\.type: unknown envoy\.config\.cluster\.v3\.Cluster\.DiscoveryType value "STRICT_DNZ"/,
  },
  {
    name: 'bad Any type',
    patch: (b) =>
      (b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config['@type'] = 'type.googleapis.com/envoy.nope.v3.Nope'),
    want: /typed_config\.@type: unknown Any type "envoy\.nope\.v3\.Nope"/,
  },
  {
    name: 'Any without @type',
    patch: (b) => delete b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config['@type'],
    want: /typed_config: Any needs "@type"/,
  },
  {
    name: 'bad duration',
    patch: (b) => (b.static_resources.clusters[0].connect_timeout = '250ms'),
    want: /connect_timeout: expected a duration like "1.5s"/,
  },
  {
    name: 'wrapper given as object in JSON form',
    patch: (b) => (b.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].load_balancing_weight = { value: 3 }),
    want: /load_balancing_weight: expected a bare uint32/,
  },
  { name: 'uint32 out of range', patch: (b) => (b.admin.address.socket_address.port_value = -1), want: /port_value: -1 out of range/ },
  {
    name: 'list expected',
    patch: (b) => (b.static_resources.clusters = { name: 'x' }),
    want: /^static_resources\.clusters: expected a list/,
  },
  {
    name: 'two members of one oneof',
    patch: (b) => (b.admin.address.pipe = { path: '/tmp/x' }),
    want: /admin\.address\.pipe: oneof "address" already set/,
  },
  {
    name: 'same field under both names',
    patch: (b) => (b.admin.address.socketAddress = b.admin.address.socket_address),
    want: /given twice/,
  },
];

for (const c of bad) {
  test(`rejects: ${c.name}`, () => {
    const errors = errorsOf(c.patch);
    assert.ok(
      errors.some((e) => c.want.test(e)),
      `expected ${c.want} in:\n${errors.join('\n')}`,
    );
  });
}

test('collects every error, not just the first', () => {
  const errors = errorsOf((b) => {
    b.foo = 1;
    b.static_resources.clusters[0].type = 'X';
    b.admin.bar = 2;
  });
  assert.equal(errors.length, 3, errors.join('\n'));
});

test('unknown message type', () => {
  const r = decodeStrict('envoy.nope.Nope', {});
  assert.equal(r.ok, false);
});

test('object form: builder-style Duration and wrappers accepted, unknown fields still rejected', () => {
  const ok = decodeStrict(
    'envoy.config.cluster.v3.Cluster',
    { name: 'c', connect_timeout: { seconds: 1, nanos: 0 }, per_connection_buffer_limit_bytes: { value: 10 } },
    { form: 'object' },
  );
  assert.ok(ok.ok);
  const bad = decodeStrict('envoy.config.cluster.v3.Cluster', { name: 'c', connect_timeout: { seconds: 1, nano: 0 } }, { form: 'object' });
  assert.equal(bad.ok, false);
  assert.match((bad as { errors: string[] }).errors[0]!, /^connect_timeout\.nano: unknown field/);
});
