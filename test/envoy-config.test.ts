/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy JSON */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { decodeStrict } from '../src/protos/strict-json.js';

/** Every Envoy config the project ships (envoy/*.yaml|json) is a valid Bootstrap with no unknown fields. */
const envoyDir = fileURLToPath(new URL('../../envoy/', import.meta.url));
const files = readdirSync(envoyDir).filter((f) => /\.(ya?ml|json)$/.test(f));

test('envoy/ ships at least the gateway bootstrap', () => {
  assert.ok(files.includes('gateway-bootstrap.yaml'), `files: ${files.join(', ')}`);
});

for (const file of files) {
  test(`envoy/${file} decodes strictly as a Bootstrap`, () => {
    const json = parse(readFileSync(join(envoyDir, file), 'utf8')) as unknown;
    const r = decodeStrict('envoy.config.bootstrap.v3.Bootstrap', json);
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  });
}

test('gateway bootstrap: ADS to xds_cluster (127.0.0.1:18000, HTTP/2), LDS and CDS over ADS, admin on loopback', () => {
  const json = parse(readFileSync(join(envoyDir, 'gateway-bootstrap.yaml'), 'utf8')) as unknown;
  const r = decodeStrict('envoy.config.bootstrap.v3.Bootstrap', json);
  assert.ok(r.ok);
  const b = r.message.toJSON() as any;
  const ads = b.dynamic_resources.ads_config;
  assert.equal(ads.api_type, 'GRPC');
  assert.equal(ads.transport_api_version, 'V3');
  assert.deepEqual(
    ads.grpc_services.map((g: any) => g.envoy_grpc.cluster_name),
    ['xds_cluster'],
  );
  for (const k of ['lds_config', 'cds_config']) {
    assert.deepEqual(b.dynamic_resources[k].ads, {}, `${k} via ADS`);
    assert.equal(b.dynamic_resources[k].resource_api_version, 'V3');
  }
  const xds = b.static_resources.clusters.find((c: any) => c.name === 'xds_cluster');
  assert.ok(xds, 'xds_cluster defined');
  const sa = xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
  assert.deepEqual([sa.address, sa.port_value], ['127.0.0.1', 18000]);
  const h2 = xds.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  assert.equal(h2['@type'], 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions');
  assert.ok(h2.explicit_http_config.http2_protocol_options, 'xDS over HTTP/2');
  assert.deepEqual([b.admin.address.socket_address.address, b.admin.address.socket_address.port_value], ['127.0.0.1', 9901]);
  // Listeners and clusters for functions come from Proxima, not from the bootstrap.
  assert.deepEqual(
    b.static_resources.listeners.map((l: any) => l.name),
    ['stats_listener'],
  );
});

test('the --config-yaml overlay documented for sub_zone is itself a valid Bootstrap fragment', () => {
  const overlay = parse("node: {locality: {sub_zone: 'edge-1'}}") as unknown;
  const r = decodeStrict('envoy.config.bootstrap.v3.Bootstrap', overlay);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
});
