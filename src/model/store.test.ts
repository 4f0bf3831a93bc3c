import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelStore, type ModelChange } from './store.js';
import { DEFAULT_MODEL_DEFAULTS, type Service, type Topology } from './types.js';

const svc = (name: string, ready = true): Service => ({
  name,
  hosts: [`${name.split('/')[1]}.example.com`],
  protocol: 'http',
  endpoints: [{ address: '10.0.0.1', port: 80, node: 'a', ready, capacity: 10 }],
});

const topo = (services: Service[], rtt = 10): Topology => ({
  nodes: [
    { name: 'a', zone: 'z', region: 'r', ready: true, labels: {} },
    { name: 'b', zone: 'z', region: 'r', ready: true, labels: {} },
  ],
  latency: [{ from: 'a', to: 'b', rttMs: rtt }],
  services,
  defaults: DEFAULT_MODEL_DEFAULTS,
});

test('replaceTopology reports only what changed', () => {
  const store = new ModelStore();
  const changes: ModelChange[] = [];
  store.onChange((c) => changes.push(c));
  store.replaceTopology(topo([svc('ns/x'), svc('ns/y')]));
  assert.equal(changes.length, 1);
  assert.equal(changes[0]?.global, true);
  store.replaceTopology(topo([svc('ns/x'), svc('ns/y')]));
  assert.equal(changes.length, 1, 'identical topology emits nothing');
  store.replaceTopology(topo([svc('ns/x', false), svc('ns/y')]));
  assert.equal(changes.length, 2);
  assert.deepEqual([...changes[1]!.services], ['ns/x']);
  assert.equal(changes[1]?.global, false);
  store.replaceTopology(topo([svc('ns/x', false)]));
  assert.deepEqual([...changes[2]!.removedServices], ['ns/y']);
  store.replaceTopology(topo([svc('ns/x', false)], 20));
  assert.equal(changes[3]?.global, true);
});

test('RTT: symmetric unless both directions given; measured wins while fresh', () => {
  const store = new ModelStore();
  store.replaceTopology(topo([]));
  assert.equal(store.rttMs('a', 'b', 0), 10);
  assert.equal(store.rttMs('b', 'a', 0), 10);
  assert.equal(store.rttMs('a', 'a', 0), DEFAULT_MODEL_DEFAULTS.localRttMs);
  store.setMeasuredRtt('a', [{ to: 'b', rttMs: 33, reachable: true }], 1000);
  assert.equal(store.rttMs('a', 'b', 1500), 33);
  assert.equal(store.rttMs('b', 'a', 1500), 10, 'measurement is directional');
  assert.equal(store.rttMs('a', 'b', 1000 + store.measuredRttTtlMs + 1), 10, 'stale rows are unknown');
  store.setMeasuredRtt('a', [{ to: 'b', rttMs: 0, reachable: false }], 2000);
  assert.equal(store.reachable('a', 'b', 2001), false);
  assert.equal(store.reachable('a', 'b', 2000 + store.measuredRttTtlMs + 1), true);
});

test('routes are derived from services until explicit routes are set', () => {
  const store = new ModelStore();
  store.replaceTopology(topo([svc('ns/x')]));
  assert.deepEqual(
    store.routes().map((r) => [r.name, r.hosts, r.rules[0]?.splits[0]?.service]),
    [['ns/x', ['x.example.com'], 'ns/x']],
  );
  const changes: ModelChange[] = [];
  store.onChange((c) => changes.push(c));
  store.setRoutes([{ name: 'ing', hosts: ['h'], visibility: ['external'], rules: [] }]);
  assert.equal(changes[0]?.routes, true);
  assert.deepEqual(
    store.routes().map((r) => r.name),
    ['ing'],
  );
});

test('demand and service time changes mark the service dirty', () => {
  const store = new ModelStore();
  store.replaceTopology(topo([svc('ns/x')]));
  const changes: ModelChange[] = [];
  store.onChange((c) => changes.push(c));
  store.setDemand('ns/x', new Map([['a', 5]]));
  store.setDemand('ns/x', new Map([['a', 5]]));
  store.setServiceTime('ns/x', new Map([['a', 12]]));
  assert.equal(changes.length, 2);
  assert.equal(store.demandRps('a', 'ns/x'), 5);
  assert.equal(store.serviceTimeMs('ns/x', 'a'), 12);
});

test('measured RTT: probe noise is stored but announced only when it moves past the threshold', () => {
  const store = new ModelStore();
  store.replaceTopology(topo([]));
  const changes: ModelChange[] = [];
  store.onChange((c) => changes.push(c));
  store.setMeasuredRtt('a', [{ to: 'b', rttMs: 50, reachable: true }], 1000);
  assert.equal(changes.length, 1, 'first row: announced');
  for (const [i, ms] of [50.4, 51.2, 52.1, 49.3].entries()) store.setMeasuredRtt('a', [{ to: 'b', rttMs: ms, reachable: true }], 1100 + i);
  assert.equal(changes.length, 1, 'moves within 5 % of the announced 50 ms: quiet');
  assert.equal(store.rttMs('a', 'b', 1200), 49.3, 'but the latest value is what reads return');
  store.setMeasuredRtt('a', [{ to: 'b', rttMs: 53, reachable: true }], 1300);
  assert.equal(changes.length, 2, 'drift past 5 % of the announced value: announced');
  store.setMeasuredRtt('a', [{ to: 'b', rttMs: 53, reachable: false }], 1400);
  assert.equal(changes.length, 3, 'reachability always announced');
});

test('a change of activators alone is a service change', () => {
  const store = new ModelStore();
  store.replaceTopology(topo([svc('ns/x')]));
  const changes: ModelChange[] = [];
  store.onChange((c) => changes.push(c));
  const activator = { address: '10.0.9.1', port: 8012, node: 'a', ready: true, capacity: 10 };
  store.upsertService({ ...svc('ns/x'), activators: [activator] });
  store.upsertService({ ...svc('ns/x'), activators: [activator] });
  store.upsertService({ ...svc('ns/x'), activators: [{ ...activator, ready: false }] });
  assert.equal(changes.length, 2);
  assert.deepEqual(store.service('ns/x')?.activators, [{ ...activator, ready: false }]);
});

test('configured RTT: an entry implies its reverse unless the reverse is given; the same pairs in another order are no change', () => {
  const store = new ModelStore();
  const changes: ModelChange[] = [];
  store.onChange((c) => changes.push(c));
  const nodes = ['a', 'b', 'c'].map((name) => ({ name, zone: 'z', region: 'r', ready: true, labels: {} }));
  const latency = [
    { from: 'a', to: 'b', rttMs: 10 },
    { from: 'c', to: 'a', rttMs: 40 },
    { from: 'b', to: 'a', rttMs: 12 },
  ];
  store.replaceTopology({ nodes, latency, services: [], defaults: DEFAULT_MODEL_DEFAULTS });
  assert.deepEqual(
    [store.configuredRttMs('a', 'b'), store.configuredRttMs('b', 'a'), store.configuredRttMs('a', 'c'), store.configuredRttMs('c', 'a')],
    [10, 12, 40, 40],
  );
  assert.equal(store.configuredRttMs('b', 'c'), undefined);
  assert.deepEqual(
    store
      .configuredLatency()
      .map((l) => `${l.from}>${l.to}=${l.rttMs}`)
      .sort(),
    ['a>b=10', 'a>c=40', 'b>a=12', 'c>a=40'],
  );
  store.replaceTopology({ nodes, latency: [...latency].reverse(), services: [], defaults: DEFAULT_MODEL_DEFAULTS });
  assert.equal(changes.length, 1, 'the same pairs in another order change nothing');
  store.replaceTopology({ nodes, latency: latency.slice(0, 2), services: [], defaults: DEFAULT_MODEL_DEFAULTS });
  assert.equal(changes.at(-1)?.global, true);
  assert.equal(store.configuredRttMs('b', 'a'), 10, 'without its own entry, b→a is a→b again');
});
