/**
 * envoy/gateway-extproc.yaml decodes strictly as an Envoy Bootstrap (unknown fields, bad enums and
 * unknown Any types are errors, as at Envoy start-up) and wires ext_proc the way the server expects.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { parse } from 'yaml';
import { HEADER_DESTINATION, HEADER_FALLBACK, HEADER_NODE, LB_METADATA_NAMESPACE } from '../src/extproc/codec.js';
import { ENVOY_PROTO_FILES, PROTO_INCLUDE_DIRS } from '../src/protos/envoy.js';
import { decodeStrict } from '../src/protos/strict-json.js';
import type { Json } from './peers/extproc-peer.js';

const here = dirname(fileURLToPath(import.meta.url));
const CONFIG = resolve(here, '..', '..', 'envoy', 'gateway-extproc.yaml');
/** The early header mutation extension is not among the protos Proxima serves; load it here. */
const EXTRA_PROTOS = ['envoy/extensions/http/early_header_mutation/header_mutation/v3/header_mutation.proto'];

function rootWithExtras(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (existsSync(target)) return target;
    for (const dir of PROTO_INCLUDE_DIRS) if (existsSync(join(dir, target))) return join(dir, target);
    return target;
  };
  root.loadSync([...ENVOY_PROTO_FILES, ...EXTRA_PROTOS], { keepCase: true });
  root.resolveAll();
  return root;
}

const config = (): Json => parse(readFileSync(CONFIG, 'utf8')) as Json;
const hcmOf = (c: Json): Json => c['static_resources'].listeners[0].filter_chains[0].filters[0].typed_config;

test('gateway-extproc.yaml decodes strictly as envoy.config.bootstrap.v3.Bootstrap', () => {
  const r = decodeStrict('envoy.config.bootstrap.v3.Bootstrap', config(), { root: rootWithExtras() });
  assert.deepEqual(r.ok ? [] : r.errors, []);
});

test('strict decoding is not vacuous: a misspelt ext_proc field is rejected with its path', () => {
  const c = config();
  hcmOf(c)['http_filters'][0].typed_config['failure_mode_alow'] = true;
  const r = decodeStrict('envoy.config.bootstrap.v3.Bootstrap', c, { root: rootWithExtras() });
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.errors.join('\n'), /failure_mode_alow/);
});

test('destination headers are stripped before any filter, and the node header is set by the gateway', () => {
  const muts = hcmOf(config())['early_header_mutation_extensions'][0].typed_config.mutations as Json[];
  const removed = muts.filter((m) => m['remove']).map((m) => m['remove']);
  for (const h of [HEADER_DESTINATION, HEADER_FALLBACK, HEADER_NODE]) assert.ok(removed.includes(h), `${h} removed`);
  const lastRemove = muts.map((m) => Boolean(m['remove'])).lastIndexOf(true);
  const setNode = muts.findIndex((m) => m['append']?.header?.key === HEADER_NODE);
  assert.ok(setNode > lastRemove, 'x-proxima-node is set after the client copy is removed');
});

test('ext_proc: headers only, fail-open, envoy.lb metadata accepted, before the router', () => {
  const filters = hcmOf(config())['http_filters'] as Json[];
  assert.deepEqual(
    filters.map((f) => f['name']),
    ['envoy.filters.http.ext_proc', 'envoy.filters.http.router'],
  );
  const ep = filters[0]!['typed_config'];
  assert.equal(ep.failure_mode_allow, true);
  assert.deepEqual(ep.processing_mode, {
    request_header_mode: 'SEND',
    response_header_mode: 'SKIP',
    request_body_mode: 'NONE',
    response_body_mode: 'NONE',
    request_trailer_mode: 'SKIP',
    response_trailer_mode: 'SKIP',
  });
  assert.deepEqual(ep.metadata_options.receiving_namespaces.untyped, [LB_METADATA_NAMESPACE]);
  assert.ok(ep.message_timeout);
  const clusters = config()['static_resources'].clusters as Json[];
  const ext = clusters.find((c) => c['name'] === ep.grpc_service.envoy_grpc.cluster_name)!;
  assert.equal(ext['load_assignment'].endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 18001);
  assert.ok(
    ext['typed_extension_protocol_options']['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config
      .http2_protocol_options,
    'gRPC needs HTTP/2',
  );
});

test('the picked route requires x-proxima-destination and targets an ORIGINAL_DST cluster keyed on it', () => {
  const c = config();
  const routes = hcmOf(c)['route_config'].virtual_hosts[0].routes as Json[];
  assert.deepEqual(routes[0]!['match'].headers, [{ name: HEADER_DESTINATION, present_match: true }]);
  const picked = (c['static_resources'].clusters as Json[]).find((x) => x['name'] === routes[0]!['route'].cluster)!;
  assert.equal(picked['type'], 'ORIGINAL_DST');
  assert.equal(picked['lb_policy'], 'CLUSTER_PROVIDED');
  assert.deepEqual(picked['original_dst_lb_config'], { use_http_header: true, http_header_name: HEADER_DESTINATION });
  assert.equal(routes[1]!['match'].headers, undefined, 'fail-open route without the header');
});
