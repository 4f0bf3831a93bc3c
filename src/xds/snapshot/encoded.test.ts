import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envoyProtos } from '../../protos/envoy.js';
import { TypeUrl } from '../resources/types.js';
import { gatherDeltaResponse, gatherSotwResponse } from '../server/wire.js';
import { encodedFromBytes, encodeResource, ResourceEncodeError, VersionSet, versionOf } from './encoded.js';

const cla = (name: string, port: number) => ({
  name,
  typeUrl: TypeUrl.ClusterLoadAssignment,
  value: {
    cluster_name: name,
    endpoints: [
      {
        locality: { sub_zone: 'n1' },
        load_balancing_weight: { value: 1 },
        lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }],
      },
    ],
  },
});

test('versions are content hashes: equal content, equal version; any change, new version', () => {
  const a = encodeResource(cla('s', 80));
  assert.equal(encodeResource(cla('s', 80)).version, a.version);
  assert.notEqual(encodeResource(cla('s', 81)).version, a.version);
  assert.notEqual(encodeResource(cla('t', 80)).version, a.version);
});

test('VersionSet is order independent and incremental', () => {
  const rs = [cla('a', 1), cla('b', 2), cla('c', 3)].map(encodeResource);
  assert.equal(versionOf(rs), versionOf([...rs].reverse()));
  const set = new VersionSet();
  for (const r of rs) set.add(r);
  const full = set.version;
  set.remove(rs[1]!);
  assert.equal(set.version, versionOf([rs[0]!, rs[2]!]));
  set.add(rs[1]!);
  assert.equal(set.version, full);
  assert.notEqual(versionOf([]), versionOf([rs[0]!]));
});

test('bad input is a ResourceEncodeError naming the resource', () => {
  assert.throws(
    () => encodeResource({ name: 'x', typeUrl: TypeUrl.Cluster, value: { name: 'x', connect_timeout: 'soon' } }),
    (e: unknown) => e instanceof ResourceEncodeError && /"x"/.test(e.message),
  );
});

test('hand-framed SotW and Delta responses decode with protobufjs as the same messages', () => {
  const rs = [cla('a', 1), cla('b', 2)].map(encodeResource);
  const protos = envoyProtos();
  const sotw = protos
    .type('envoy.service.discovery.v3.DiscoveryResponse')
    .toObject(
      protos
        .type('envoy.service.discovery.v3.DiscoveryResponse')
        .decode(gatherSotwResponse({ versionInfo: 'v1', typeUrl: TypeUrl.ClusterLoadAssignment, nonce: '7', resources: rs }).toBuffer()),
    ) as {
    version_info: string;
    nonce: string;
    type_url: string;
    resources: Array<{ type_url: string; value: Uint8Array }>;
    control_plane: { identifier: string };
  };
  assert.equal(sotw.version_info, 'v1');
  assert.equal(sotw.nonce, '7');
  assert.equal(sotw.type_url, TypeUrl.ClusterLoadAssignment);
  assert.equal(sotw.control_plane.identifier, 'proxima');
  const claType = protos.type('envoy.config.endpoint.v3.ClusterLoadAssignment');
  assert.deepEqual(
    sotw.resources.map((a) => (claType.decode(a.value) as unknown as { cluster_name: string }).cluster_name),
    ['a', 'b'],
  );
  const DeltaType = protos.type('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const delta = DeltaType.toObject(
    DeltaType.decode(
      gatherDeltaResponse({
        systemVersionInfo: 's',
        typeUrl: TypeUrl.ClusterLoadAssignment,
        nonce: '9',
        resources: rs.slice(0, 1),
        removed: ['gone'],
      }).toBuffer(),
    ),
  ) as {
    resources: Array<{ name: string; version: string; resource: { type_url: string } }>;
    removed_resources: string[];
    nonce: string;
  };
  assert.equal(delta.nonce, '9');
  assert.deepEqual(delta.removed_resources, ['gone']);
  assert.equal(delta.resources[0]!.name, 'a');
  assert.equal(delta.resources[0]!.version, rs[0]!.version);
  assert.equal(delta.resources[0]!.resource.type_url, TypeUrl.ClusterLoadAssignment);
});

test('the framed Any decodes as a DiscoveryResponse resource with the type URL and the exact value bytes, at every varint length', () => {
  const Response = envoyProtos().type('envoy.service.discovery.v3.DiscoveryResponse');
  for (const size of [0, 1, 100, 127, 128, 16_383, 16_384, 200_000]) {
    const value = Buffer.alloc(size, size % 251);
    const r = encodedFromBytes(TypeUrl.ClusterLoadAssignment, `n-${size}`, value);
    const decoded = Response.toObject(Response.decode(r.sotwEntry)) as { resources: Array<{ type_url: string; value: Uint8Array }> };
    assert.equal(decoded.resources.length, 1, `size ${size}`);
    assert.equal(decoded.resources[0]!.type_url, TypeUrl.ClusterLoadAssignment, `size ${size}`);
    assert.ok(Buffer.from(decoded.resources[0]!.value).equals(value), `size ${size}`);
    assert.ok(r.sotwEntry.subarray(r.sotwEntry.length - r.any.length).equals(r.any), `size ${size}: any is the entry's tail`);
    assert.equal(r.valueBytes, size);
  }
});
