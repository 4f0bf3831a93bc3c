import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envoyProtos } from '../../src/protos/envoy.js';
import { parseHead } from './discovery-head.js';

const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

/** A DiscoveryResponse encoded by protobufjs from Envoy's own protos: the reader's real peer. */
function response(clusters: ReadonlyArray<Record<string, unknown>>, fields: { version: string; nonce: string }): Buffer {
  const protos = envoyProtos();
  const cla = protos.type('envoy.config.endpoint.v3.ClusterLoadAssignment');
  const discovery = protos.type('envoy.service.discovery.v3.DiscoveryResponse');
  const resources = clusters.map((c) => ({ type_url: EDS, value: cla.encode(cla.fromObject(c)).finish() }));
  const message = discovery.fromObject({ version_info: fields.version, resources, type_url: EDS, nonce: fields.nonce });
  return Buffer.from(discovery.encode(message).finish());
}

const endpoint = (i: number) => ({ endpoint: { address: { socket_address: { address: `10.0.0.${i}`, port_value: 8012 } } } });
const policy = { overprovisioning_factor: { value: 140 } };

test('discovery head: counts resources and the ClusterLoadAssignments without endpoints', () => {
  const withEndpoints = { cluster_name: 'ns/a', endpoints: [{ lb_endpoints: [endpoint(1)] }], policy };
  const head = parseHead(response([withEndpoints, { cluster_name: 'ns/b', policy }, withEndpoints, {}], { version: 'v-1', nonce: 'n-7' }));
  assert.deepEqual(head, { versionInfo: 'v-1', typeUrl: EDS, nonce: 'n-7', count: 4, withoutField2: 2 });
});

test('discovery head: multi-byte lengths (a resource over 127 bytes, a response over 16 KiB) are walked, not misread', () => {
  // 200 endpoints: each resource is several KiB, so its length and the endpoints field's take 2 bytes.
  const big = { cluster_name: 'ns/big', endpoints: [{ lb_endpoints: Array.from({ length: 200 }, (_, i) => endpoint(i)) }], policy };
  const clusters = Array.from({ length: 10 }, (_, i) => (i === 7 ? { cluster_name: 'ns/empty', policy } : big));
  const head = parseHead(response(clusters, { version: 'x'.repeat(300), nonce: 'last' }));
  assert.equal(head.count, 10);
  assert.equal(head.withoutField2, 1);
  assert.equal(head.versionInfo.length, 300);
  assert.equal(head.nonce, 'last');
});
