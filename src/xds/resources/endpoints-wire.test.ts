import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envoyProtos } from '../../protos/envoy.js';
import type { Endpoint, NodeInfo, Service } from '../../model/types.js';
import type { GatewayAssignment } from '../../policy/types.js';
import { mulberry32, type Rng } from '../../util/rng.js';
import { buildClusterLoadAssignment } from './endpoints.js';
import { encodeClusterLoadAssignmentValue } from './endpoints-wire.js';

/** What the direct writer must equal: protobufjs's fromObject + encode, as encodeResource did it before. */
function protobufjsBytes(value: unknown): Buffer {
  const type = envoyProtos().type('envoy.config.endpoint.v3.ClusterLoadAssignment');
  return Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish());
}

const NAMES = ['n-0001', 'edge-ä', '', 'z', 'emoji-🙂', 'node-with-a-rather-long-name-that-needs-two-length-bytes-'.repeat(3), '東京-1'];

function randomCase(rng: Rng): { service: Service; nodes: Map<string, NodeInfo>; assignment: GatewayAssignment } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const nodes = new Map<string, NodeInfo>();
  const nodeCount = 1 + Math.floor(rng() * 8);
  for (let i = 0; i < nodeCount; i++) {
    const name = `${pick(NAMES)}${i}`;
    nodes.set(name, { name, zone: pick(NAMES), region: pick(NAMES), ready: rng() < 0.9, labels: {} });
  }
  const names = [...nodes.keys()];
  const endpoint = (): Endpoint => ({
    address: `10.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}`,
    port: pick([0, 1, 80, 127, 128, 8012, 16384, 65535]),
    node: rng() < 0.95 ? pick(names) : 'not-in-the-model',
    ready: rng() < 0.85,
    ...(rng() < 0.1 ? { pending: true } : {}),
    capacity: 10,
  });
  const service: Service = {
    name: `ns/${pick(NAMES)}`,
    hosts: ['h.example.com'],
    protocol: 'http',
    endpoints: Array.from({ length: Math.floor(rng() * 40) }, endpoint),
    ...(rng() < 0.4 ? { activators: Array.from({ length: 1 + Math.floor(rng() * 3) }, endpoint) } : {}),
  };
  const localities = Array.from({ length: Math.floor(rng() * 10) }, () => ({
    node: pick([...names, 'gone']),
    priority: pick([0, 0, 1, 2, 5, 127, 300]),
    weight: pick([0, 0.4, 1, 3.5, 127, 128, 1000, 16384, 2 ** 31]),
  }));
  return { service, nodes, assignment: { service: service.name, localities, reason: 'test' } };
}

test('endpoints wire: the direct ClusterLoadAssignment bytes equal protobufjs, on 500 random builds', () => {
  const rng = mulberry32(14);
  let withActivators = 0;
  for (let i = 0; i < 500; i++) {
    const c = randomCase(rng);
    const built = buildClusterLoadAssignment({
      clusterName: c.service.name,
      service: rng() < 0.95 ? c.service : undefined,
      assignment: rng() < 0.95 ? c.assignment : undefined,
      node: (n) => c.nodes.get(n),
    });
    if (c.service.activators) withActivators++;
    const direct = encodeClusterLoadAssignmentValue(built.value);
    assert.ok(direct, `case ${i}: the builder's shape is written directly`);
    assert.deepEqual(direct, protobufjsBytes(built.value), `case ${i}`);
  }
  assert.ok(withActivators > 100);
});

test('endpoints wire: explicit zero, empty and out-of-range values are written as protobufjs writes them', () => {
  const values = [
    { cluster_name: '' },
    { cluster_name: 'a', endpoints: [] },
    { cluster_name: 'a', endpoints: [{}], policy: {} },
    { cluster_name: 'a', policy: { overprovisioning_factor: {} } },
    {
      cluster_name: 'a',
      endpoints: [
        {
          locality: {},
          priority: 0,
          load_balancing_weight: { value: 0 },
          lb_endpoints: [{}, { endpoint: {} }, { endpoint: { address: {} } }, { endpoint: { address: { socket_address: {} } } }],
        },
        {
          priority: -1,
          load_balancing_weight: { value: 2 ** 32 + 5 },
          lb_endpoints: [{ health_status: 'DRAINING' }, { health_status: 3 }],
        },
        {
          priority: 7.9,
          lb_endpoints: [{ endpoint: { address: { socket_address: { address: '', port_value: -80 } } }, health_status: 0 }],
        },
      ],
      policy: { overprovisioning_factor: { value: 140 } },
    },
  ];
  for (const v of values) assert.deepEqual(encodeClusterLoadAssignmentValue(v), protobufjsBytes(v), JSON.stringify(v));
});

test('endpoints wire: any other shape is left to protobufjs (undefined)', () => {
  const other: unknown[] = [
    null,
    [],
    { cluster_name: 'a', named_endpoints: {} },
    { cluster_name: 7 },
    { cluster_name: 'a', endpoints: {} },
    { cluster_name: 'a', endpoints: [{ proximity: { value: 1 } }] },
    { cluster_name: 'a', endpoints: [{ priority: '1' }] },
    { cluster_name: 'a', endpoints: [{ lb_endpoints: [{ load_balancing_weight: { value: 1 } }] }] },
    { cluster_name: 'a', endpoints: [{ lb_endpoints: [{ health_status: 'NOT_A_STATUS' }] }] },
    { cluster_name: 'a', endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: '/x' } } } }] }] },
    { cluster_name: 'a', endpoints: [{ locality: [] }] },
    { cluster_name: 'a', policy: { drop_overloads: [] } },
    { cluster_name: 'lone \uD800 surrogate' },
  ];
  for (const v of other) assert.equal(encodeClusterLoadAssignmentValue(v), undefined, JSON.stringify(v));
});
