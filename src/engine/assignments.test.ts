import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelStore } from '../model/store.js';
import { DEFAULT_MODEL_DEFAULTS, type Topology } from '../model/types.js';
import { nearestPolicy } from '../policy/nearest.js';
import { AssignmentEngine, UNKNOWN_GATEWAY, type AssignmentChange } from './assignments.js';
import { reasonText } from '../policy/reason.js';

const topology = (edgeReady: boolean): Topology => ({
  nodes: ['edge-1', 'edge-2', 'cloud'].map((name) => ({ name, zone: name, region: 'r', ready: true, labels: {} })),
  latency: [
    { from: 'edge-1', to: 'edge-2', rttMs: 20 },
    { from: 'edge-1', to: 'cloud', rttMs: 50 },
    { from: 'edge-2', to: 'cloud', rttMs: 100 },
  ],
  services: [
    {
      name: 'ns/a',
      hosts: ['a'],
      protocol: 'http',
      endpoints: [
        { address: '10.0.0.1', port: 80, node: 'edge-1', ready: edgeReady, capacity: 10 },
        { address: '10.0.0.2', port: 80, node: 'cloud', ready: true, capacity: 10 },
      ],
    },
    {
      name: 'ns/b',
      hosts: ['b'],
      protocol: 'http',
      endpoints: [{ address: '10.0.0.3', port: 80, node: 'cloud', ready: true, capacity: 10 }],
    },
  ],
  defaults: DEFAULT_MODEL_DEFAULTS,
});

test('engine: recomputes only dirty services and reports only real changes', () => {
  const store = new ModelStore();
  store.replaceTopology(topology(true));
  const engine = new AssignmentEngine({ store, policy: nearestPolicy });
  engine.start();
  const changes: AssignmentChange[] = [];
  engine.onChange((c) => changes.push(c));
  assert.equal(engine.get('ns/a', 'edge-1')?.localities[0]?.node, 'edge-1');
  assert.equal(
    engine.get('ns/a', 'edge-2')?.localities[0]?.node,
    'edge-1',
    'edge-2 has no pod: nearest is edge-1 (20 ms), not cloud (100 ms)',
  );

  store.replaceTopology(topology(false));
  engine.flush();
  assert.deepEqual(
    changes.map((c) => [...c.services]),
    [['ns/a']],
  );
  assert.equal(engine.get('ns/a', 'edge-1')?.localities[0]?.node, 'cloud');

  store.replaceTopology(topology(false));
  engine.flush();
  assert.equal(changes.length, 1, 'no change, no event');
  engine.stop();
});

test('engine: gateways on unknown nodes get the even assignment', () => {
  const store = new ModelStore();
  store.replaceTopology(topology(true));
  const engine = new AssignmentEngine({ store, policy: nearestPolicy });
  engine.start();
  const a = engine.get('ns/a', 'somewhere-else');
  assert.equal(a, engine.get('ns/a', UNKNOWN_GATEWAY), 'the unknown-node row');
  assert.deepEqual(
    a?.localities.map((l) => [l.node, l.priority]),
    [
      ['cloud', 0],
      ['edge-1', 0],
    ],
  );
  assert.match(reasonText(a?.reason ?? ''), /unknown node/);
  engine.stop();
});

test('engine: removed services are reported and dropped', () => {
  const store = new ModelStore();
  store.replaceTopology(topology(true));
  const engine = new AssignmentEngine({ store, policy: nearestPolicy });
  engine.start();
  const changes: AssignmentChange[] = [];
  engine.onChange((c) => changes.push(c));
  store.removeService('ns/b');
  engine.flush();
  assert.deepEqual([...changes[0]!.removed], ['ns/b']);
  assert.equal(engine.forService('ns/b'), undefined);
  engine.stop();
});

test('engine: equal assignments share one localities array of frozen entries, same content as the policy', async () => {
  const { internAssignments } = await import('./assignments.js');
  const { policyInputFor } = await import('./policy-input.js');
  const store = new ModelStore();
  const t = topology(true);
  const extra = ['edge-3', 'edge-4'].map((name) => ({ name, zone: name, region: 'r', ready: true, labels: {} }));
  store.replaceTopology({ ...t, nodes: [...t.nodes, ...extra] });
  const engine = new AssignmentEngine({ store, policy: nearestPolicy });
  engine.start();
  // ns/b runs only on cloud: every gateway but cloud itself routes there with the same failover.
  const b = engine.forService('ns/b')!;
  assert.equal(b.get('edge-2')!.localities, b.get('edge-3')!.localities);
  assert.ok(b.get('edge-2')!.localities.every((l) => Object.isFrozen(l)));
  const raw = nearestPolicy.assign(policyInputFor(store, 'ns/b', store.nodeNames().sort(), Date.now()));
  for (const [g, a] of raw) assert.deepEqual(b.get(g), a);
  const interned = internAssignments(new Map(raw));
  assert.deepEqual([...interned], [...raw]);
  // Gateways with equal rows share one row object (the gateway is the key, not a field), and stay
  // sharing when interning replaces it (a string reason is always re-pooled).
  assert.equal(b.get('edge-3'), b.get('edge-4'), 'edge-3 and edge-4 see cloud at the same (default) RTT');
  const row = { service: 'ns/b', localities: [{ node: 'cloud', priority: 0, weight: 1000 }], reason: 'test: shared' };
  const replaced = internAssignments(
    new Map([
      ['edge-1', row],
      ['edge-2', row],
    ]),
  );
  assert.notEqual(replaced.get('edge-1'), row);
  assert.equal(replaced.get('edge-1'), replaced.get('edge-2'));
  assert.deepEqual(replaced.get('edge-2'), row);
});

test('engine: full recomputes are spaced by twice their duration; explicit flush is immediate', async () => {
  const store = new ModelStore();
  store.replaceTopology(topology(true));
  let calls = 0;
  const slow = {
    ...nearestPolicy,
    assign(input: Parameters<typeof nearestPolicy.assign>[0]) {
      calls++;
      const until = performance.now() + 15;
      while (performance.now() < until); // a 15 ms policy per service: 30 ms per full recompute
      return nearestPolicy.assign(input);
    },
  };
  const engine = new AssignmentEngine({ store, policy: slow });
  engine.start();
  assert.equal(calls, 2);
  engine.invalidateAll();
  await new Promise((r) => setImmediate(r));
  assert.equal(calls, 2, 'not yet: the last full recompute ended less than 2 × 30 ms ago');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(calls, 4, 'ran once the spacing passed');
  engine.invalidateAll();
  engine.flush();
  assert.equal(calls, 6, 'an explicit flush runs at once');
  engine.stop();
});
