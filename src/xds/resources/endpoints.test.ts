/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy JSON */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayAssignment } from '../../policy/types.js';
import { buildClusterLoadAssignment, OVERPROVISIONING_FACTOR } from './endpoints.js';
import { node, service, strictErrors } from './fixtures.js';
import type { NodeInfo } from '../../model/types.js';

const nodes = new Map<string, NodeInfo>([
  ['n1', node('n1', 'z1', 'r1')],
  ['n2', node('n2', 'z2', 'r1')],
  ['n3', node('n3', 'z3', 'r2')],
  ['down', node('down', 'z9', 'r9', false)],
]);
const svc = service('ns/fn', [
  ['10.0.0.2', 8012, 'n1'],
  ['10.0.0.1', 8012, 'n1'],
  ['10.0.1.1', 8012, 'n2', false],
  ['10.0.2.1', 8012, 'n3'],
  ['10.0.9.1', 8012, 'down'],
]);

function assignment(localities: Array<[string, number, number]>): GatewayAssignment {
  return {
    service: 'ns/fn',
    reason: 'test',
    localities: localities.map(([n, priority, weight]) => ({ node: n, priority, weight })),
  };
}

type Summary = Array<{ sub_zone: string; priority: number; weight: number; addresses: string[] }>;
function summary(v: Record<string, any>): Summary {
  return v.endpoints.map((l: any) => ({
    sub_zone: l.locality.sub_zone,
    priority: l.priority,
    weight: l.load_balancing_weight.value,
    addresses: l.lb_endpoints.map(
      (e: any) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`,
    ),
  }));
}

const cases: Array<{ name: string; a: GatewayAssignment | undefined; want: Summary }> = [
  { name: 'no assignment → empty', a: undefined, want: [] },
  {
    name: 'priorities and weights, endpoints sorted',
    a: assignment([
      ['n1', 0, 700],
      ['n3', 0, 300],
    ]),
    want: [
      { sub_zone: 'n1', priority: 0, weight: 700, addresses: ['10.0.0.1:8012', '10.0.0.2:8012'] },
      { sub_zone: 'n3', priority: 0, weight: 300, addresses: ['10.0.2.1:8012'] },
    ],
  },
  {
    name: 'node without ready endpoints dropped, priorities renumbered contiguous',
    a: assignment([
      ['n2', 0, 1000],
      ['n1', 1, 1],
      ['n3', 2, 1],
    ]),
    want: [
      { sub_zone: 'n1', priority: 0, weight: 1, addresses: ['10.0.0.1:8012', '10.0.0.2:8012'] },
      { sub_zone: 'n3', priority: 1, weight: 1, addresses: ['10.0.2.1:8012'] },
    ],
  },
  { name: 'endpoints on a not-ready node are not routable', a: assignment([['down', 0, 1000]]), want: [] },
  {
    name: 'weight 0 or fractional becomes an integer >= 1',
    a: assignment([
      ['n1', 0, 0],
      ['n3', 0, 2.6],
    ]),
    want: [
      { sub_zone: 'n1', priority: 0, weight: 1, addresses: ['10.0.0.1:8012', '10.0.0.2:8012'] },
      { sub_zone: 'n3', priority: 0, weight: 3, addresses: ['10.0.2.1:8012'] },
    ],
  },
  {
    name: 'duplicate node listed once',
    a: assignment([
      ['n1', 0, 500],
      ['n1', 1, 1],
    ]),
    want: [{ sub_zone: 'n1', priority: 0, weight: 500, addresses: ['10.0.0.1:8012', '10.0.0.2:8012'] }],
  },
];

for (const c of cases) {
  test(`CLA: ${c.name}`, () => {
    const r = buildClusterLoadAssignment({ clusterName: 'ns/fn', service: svc, assignment: c.a, node: (n) => nodes.get(n) });
    const v = r.value as Record<string, any>;
    assert.equal(r.name, 'ns/fn');
    assert.equal(v.cluster_name, 'ns/fn');
    assert.deepEqual(summary(v), c.want);
    assert.deepEqual(v.policy, { overprovisioning_factor: { value: OVERPROVISIONING_FACTOR } });
    for (const l of v.endpoints) {
      assert.ok(l.locality.region && l.locality.zone, 'locality region/zone from the node');
      for (const e of l.lb_endpoints) assert.equal(e.health_status, 'HEALTHY');
    }
    assert.deepEqual(strictErrors(r), []);
  });
}

test('CLA: unknown service → empty CLA with cluster_name', () => {
  const r = buildClusterLoadAssignment({
    clusterName: 'ns/gone',
    service: undefined,
    assignment: assignment([['n1', 0, 1000]]),
    node: (n) => nodes.get(n),
  });
  assert.deepEqual((r.value as any).endpoints, []);
  assert.equal((r.value as any).cluster_name, 'ns/gone');
});

test('CLA: same input in a different order gives identical output', () => {
  const a = buildClusterLoadAssignment({
    clusterName: 'ns/fn',
    service: svc,
    assignment: assignment([
      ['n3', 0, 300],
      ['n1', 0, 700],
    ]),
    node: (n) => nodes.get(n),
  });
  const shuffled = { ...svc, endpoints: [...svc.endpoints].reverse() };
  const b = buildClusterLoadAssignment({
    clusterName: 'ns/fn',
    service: shuffled,
    assignment: assignment([
      ['n1', 0, 700],
      ['n3', 0, 300],
    ]),
    node: (n) => nodes.get(n),
  });
  assert.equal(JSON.stringify(a.value), JSON.stringify(b.value));
});

test('CLA: activators are one last priority after the assigned pods; without ready pods they are priority 0', () => {
  const activators = service('ns/fn', [
    ['10.0.2.200', 8012, 'n3'],
    ['10.0.0.200', 8012, 'n1'],
    ['10.0.0.201', 8012, 'n1', false],
  ]).endpoints;
  const withActivators = { ...svc, activators };
  const build = (s: typeof svc, a: GatewayAssignment | undefined) =>
    summary(buildClusterLoadAssignment({ clusterName: 'ns/fn', service: s, assignment: a, node: (n) => nodes.get(n) }).value as any);
  assert.deepEqual(
    build(
      withActivators,
      assignment([
        ['n1', 0, 1000],
        ['n3', 1, 1],
      ]),
    ),
    [
      { sub_zone: 'n1', priority: 0, weight: 1000, addresses: ['10.0.0.1:8012', '10.0.0.2:8012'] },
      { sub_zone: 'n3', priority: 1, weight: 1, addresses: ['10.0.2.1:8012'] },
      { sub_zone: 'n1', priority: 2, weight: 1, addresses: ['10.0.0.200:8012'] },
      { sub_zone: 'n3', priority: 2, weight: 1, addresses: ['10.0.2.200:8012'] },
    ],
  );
  // Scaled to zero: no pod is ready, the policy assigns nothing; the activators take priority 0.
  const noPods = { ...withActivators, endpoints: svc.endpoints.map((e) => ({ ...e, ready: false })) };
  assert.deepEqual(build(noPods, assignment([])), [
    { sub_zone: 'n1', priority: 0, weight: 1, addresses: ['10.0.0.200:8012'] },
    { sub_zone: 'n3', priority: 0, weight: 1, addresses: ['10.0.2.200:8012'] },
  ]);
  assert.deepEqual(build(noPods, undefined).length, 2);
});
