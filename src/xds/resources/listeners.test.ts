/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy JSON */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApiListeners, buildGatewayListeners } from './listeners.js';
import { strictErrors } from './fixtures.js';
import { routeForService } from '../../model/types.js';
import { service } from './fixtures.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

for (const [name, port, rds] of [
  ['listener_8080', 8080, 'external_services'],
  ['listener_8081', 8081, 'internal_services'],
] as const) {
  test(`gateway listener ${name}`, () => {
    const r = buildGatewayListeners().find((l) => l.name === name)!;
    assert.ok(r, `${name} built`);
    const v = r.value as Record<string, any>;
    assert.deepEqual(v.address, { socket_address: { protocol: 'TCP', address: '0.0.0.0', port_value: port } });
    assert.equal(v.filter_chains.length, 1);
    const f = v.filter_chains[0].filters[0];
    assert.equal(f.name, 'envoy.filters.network.http_connection_manager');
    const hcm = f.typed_config;
    assert.equal(hcm['@type'], HCM);
    assert.equal(hcm.stat_prefix, 'ingress_http');
    assert.equal(hcm.codec_type, 'AUTO');
    assert.equal(hcm.rds.route_config_name, rds);
    assert.deepEqual(hcm.rds.config_source.ads, {});
    assert.equal(hcm.http_filters.at(-1).typed_config['@type'], ROUTER, 'router is the last filter');
    assert.deepEqual(hcm.upgrade_configs, [{ upgrade_type: 'websocket' }]);
    assert.deepEqual(hcm.use_remote_address, { value: false });
    assert.deepEqual(strictErrors(r), []);
  });
}

test('API listeners: one per host and host:80, RDS named after the host, router last', () => {
  const routes = [
    routeForService(service('ns/b', [], 'grpc', ['b.ns.svc', 'b.example.com'])),
    routeForService(service('ns/a', [], 'grpc', ['a.ns.svc'])),
  ];
  const ls = buildApiListeners(routes);
  assert.deepEqual(
    ls.map((l) => l.name),
    ['a.ns.svc', 'a.ns.svc:80', 'b.example.com', 'b.example.com:80', 'b.ns.svc', 'b.ns.svc:80'],
  );
  for (const l of ls) {
    const v = l.value as Record<string, any>;
    const hcm = v.api_listener.api_listener;
    assert.equal(hcm['@type'], HCM);
    assert.equal(hcm.rds.route_config_name, l.name.replace(/:80$/, ''));
    assert.deepEqual(
      hcm.http_filters.map((f: any) => f.typed_config['@type']),
      [ROUTER],
    );
    assert.equal(v.address, undefined, 'gRPC API listeners have no socket');
    assert.deepEqual(strictErrors(l), []);
  }
});
