/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy JSON */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ModelStore } from '../../model/store.js';
import { parseTopology } from '../../model/topology.js';
import { nearestPolicy } from '../../policy/nearest.js';
import { AssignmentEngine } from '../../engine/assignments.js';
import { envoyProtos } from '../../protos/envoy.js';
import { buildEndpoints, buildShared, DEFAULT_BUILD_OPTIONS, messageNameOf, type ProtoResource } from './index.js';
import { strictErrors } from './fixtures.js';

function exampleStore(): ModelStore {
  const text = readFileSync(new URL('../../../../examples/topology.yaml', import.meta.url), 'utf8');
  const parsed = parseTopology(text);
  assert.ok(parsed.ok, 'example topology parses');
  const store = new ModelStore();
  store.replaceTopology(parsed.topology);
  return store;
}

function bytes(r: ProtoResource): Buffer {
  const t = envoyProtos().type(messageNameOf(r.typeUrl));
  return Buffer.from(t.encode(t.fromObject(r.value)).finish());
}

test('buildShared on the example topology: names, strict validity, cross references', () => {
  const store = exampleStore();
  const shared = buildShared(store, DEFAULT_BUILD_OPTIONS);
  assert.deepEqual(
    shared.listeners.map((r) => r.name),
    ['listener_8080', 'listener_8081', 'listener_8090'],
  );
  assert.deepEqual(
    shared.clusters.map((r) => r.name),
    ['default/echo-grpc', 'default/hello'],
  );
  const routeNames = new Set(shared.routes.map((r) => r.name));
  const clusterNames = new Set(shared.clusters.map((r) => r.name));
  for (const l of [...shared.listeners, ...shared.apiListeners]) {
    const v = l.value as any;
    const hcm = v.api_listener?.api_listener ?? v.filter_chains[0].filters[0].typed_config;
    assert.ok(routeNames.has(hcm.rds.route_config_name), `${l.name} → ${hcm.rds.route_config_name} exists`);
  }
  for (const r of shared.routes) {
    for (const vh of (r.value as any).virtual_hosts) {
      for (const route of vh.routes) {
        const targets = route.route
          ? route.route.cluster
            ? [route.route.cluster]
            : route.route.weighted_clusters.clusters.map((c: any) => c.name)
          : [];
        for (const t of targets) assert.ok(clusterNames.has(t), `${r.name} → cluster ${t} exists`);
      }
    }
  }
  for (const r of [...shared.listeners, ...shared.apiListeners, ...shared.routes, ...shared.clusters])
    assert.deepEqual(strictErrors(r), [], r.name);
});

test('builders are deterministic: same model → same bytes', () => {
  const a = buildShared(exampleStore(), DEFAULT_BUILD_OPTIONS);
  const b = buildShared(exampleStore(), DEFAULT_BUILD_OPTIONS);
  const all = (s: typeof a) => [...s.listeners, ...s.apiListeners, ...s.routes, ...s.clusters];
  assert.deepEqual(all(a).map(bytes), all(b).map(bytes));
});

test('buildEndpoints follows the engine assignment for each gateway', () => {
  const store = exampleStore();
  const engine = new AssignmentEngine({ store, policy: nearestPolicy, nowMs: () => 0 });
  engine.start();
  try {
    for (const gw of ['edge-1', 'edge-2', 'cloud-1']) {
      const r = buildEndpoints(store, 'default/hello', engine.get('default/hello', gw), DEFAULT_BUILD_OPTIONS);
      const v = r.value as any;
      assert.equal(v.endpoints[0].locality.sub_zone, gw, `${gw}: local node first`);
      assert.equal(v.endpoints[0].priority, 0);
      assert.deepEqual(strictErrors(r), []);
    }
    // edge-2 has no echo-grpc endpoint: nearest from edge-2 is edge-1 (20 ms) before cloud-1 (100 ms).
    const v = buildEndpoints(store, 'default/echo-grpc', engine.get('default/echo-grpc', 'edge-2'), DEFAULT_BUILD_OPTIONS).value as any;
    assert.deepEqual(
      v.endpoints.map((l: any) => [l.locality.sub_zone, l.priority]),
      [
        ['edge-1', 0],
        ['cloud-1', 1],
      ],
    );
    assert.deepEqual((buildEndpoints(store, 'default/missing', undefined, DEFAULT_BUILD_OPTIONS).value as any).endpoints, []);
  } finally {
    engine.stop();
  }
});
