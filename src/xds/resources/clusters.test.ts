/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy JSON */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCluster, buildClusters } from './clusters.js';
import { service, strictErrors } from './fixtures.js';
import { TypeUrl } from './types.js';

const cases = [
  { name: 'http, LRS on', protocol: 'http' as const, loadReporting: true, h2: false },
  { name: 'h2c gets explicit HTTP/2', protocol: 'h2c' as const, loadReporting: true, h2: true },
  { name: 'grpc gets explicit HTTP/2, LRS off', protocol: 'grpc' as const, loadReporting: false, h2: true },
];

for (const c of cases) {
  test(`cluster: ${c.name}`, () => {
    const r = buildCluster(service('ns/fn', [], c.protocol), { loadReporting: c.loadReporting, connectTimeoutMs: 2500 });
    assert.equal(r.name, 'ns/fn');
    assert.equal(r.typeUrl, TypeUrl.Cluster);
    const v = r.value as Record<string, any>;
    assert.equal(v.type, 'EDS');
    assert.deepEqual(v.eds_cluster_config, { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: 'ns/fn' });
    assert.deepEqual(v.connect_timeout, { seconds: 2, nanos: 500_000_000 });
    assert.deepEqual(v.common_lb_config, { locality_weighted_lb_config: {} });
    assert.equal(v.lb_policy, undefined, 'ROUND_ROBIN by default: gRPC rejects most other policies');
    assert.deepEqual(v.lrs_server, c.loadReporting ? { self: {} } : undefined);
    const opts = v.typed_extension_protocol_options?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    if (c.h2)
      assert.deepEqual(opts, {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      });
    else assert.equal(v.typed_extension_protocol_options, undefined);
    assert.deepEqual(strictErrors(r), []);
  });
}

test('clusters are sorted by name', () => {
  const names = buildClusters([service('b/x', []), service('a/y', []), service('a/b', [])], {
    loadReporting: true,
    connectTimeoutMs: 1000,
  }).map((r) => r.name);
  assert.deepEqual(names, ['a/b', 'a/y', 'b/x']);
});
