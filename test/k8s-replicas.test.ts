/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * Two KubernetesSource replicas against one kube-apiserver STAND-IN: each learns different
 * measurements (as if different probe agents / gateways were connected to it), publishes them as a
 * ProximaMeasurement, reads both back and merges them; the AssignmentEngines of both replicas must
 * then hold byte-identical assignments for every service × gateway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssignmentEngine } from '../src/engine/assignments.js';
import { nearestPolicy } from '../src/policy/nearest.js';
import type { ModelStore } from '../src/model/store.js';
import { eventually, newSource, startStandIn } from './kube/harness.js';

function assignmentsJson(engine: AssignmentEngine, store: ModelStore): string {
  engine.flush();
  const out: unknown[] = [];
  for (const s of [...engine.services()].sort()) {
    for (const g of [...store.nodeNames(), '*'].sort()) out.push([s, g, engine.get(s, g)]);
  }
  return JSON.stringify(out);
}

test('k8s replicas: two replicas publish, merge and compute byte-identical assignments', async (t) => {
  const { api, url } = await startStandIn();
  const fast = { minIntervalMs: 0, maxIntervalMs: 60_000, relativeChange: 0.1, absoluteFloor: 1, maxAgeMs: 60_000 };
  const a = newSource(url, { replicaId: 'proxima-0', nodeName: 'cloud-1', measurements: fast });
  const b = newSource(url, { replicaId: 'proxima-1', nodeName: 'edge-1', measurements: fast });
  const engines = [a, b].map((r) => new AssignmentEngine({ store: r.store, policy: nearestPolicy }));
  t.after(async () => {
    for (const e of engines) e.stop();
    await a.source.stop();
    await b.source.stop();
    await api.stop();
  });
  await Promise.all([a.source.start(), b.source.start()]);
  for (const e of engines) e.start();

  const now = Date.now();
  // Replica 0 hears the probe agent on edge-1, replica 1 the one on edge-2 and the gateways' LRS.
  a.source.publishRtt(
    'edge-1',
    [
      { to: 'edge-2', rttMs: 8, reachable: true },
      { to: 'cloud-1', rttMs: 95, reachable: true },
    ],
    now,
  );
  b.source.publishRtt(
    'edge-2',
    [
      { to: 'edge-1', rttMs: 8, reachable: true },
      { to: 'cloud-1', rttMs: 40, reachable: true },
    ],
    now,
  );
  b.source.publishDemand(
    'default/hello-00001',
    new Map([
      ['edge-1', 12],
      ['edge-2', 3],
    ]),
    now,
  );
  // Both replicas report the same row: the newer one wins everywhere.
  a.source.publishRtt('cloud-1', [{ to: 'edge-1', rttMs: 90, reachable: true }], now - 1000);
  b.source.publishRtt('cloud-1', [{ to: 'edge-1', rttMs: 99, reachable: true }], now);
  await Promise.all([a.source.flushMeasurements(), b.source.flushMeasurements()]);

  assert.deepEqual(
    api
      .list('ProximaMeasurement')
      .map((o) => o['metadata'].name)
      .sort(),
    ['proxima-0', 'proxima-1'],
  );
  for (const r of [a, b]) {
    await eventually(() => {
      assert.equal(r.store.rttMs('edge-1', 'cloud-1', Date.now()), 95);
      assert.equal(r.store.rttMs('edge-2', 'cloud-1', Date.now()), 40);
      assert.equal(r.store.rttMs('cloud-1', 'edge-1', Date.now()), 99);
      assert.equal(r.store.demandRps('edge-1', 'default/hello-00001'), 12);
    });
  }
  const ja = assignmentsJson(engines[0]!, a.store);
  const jb = assignmentsJson(engines[1]!, b.store);
  assert.ok(ja.length > 100);
  assert.equal(ja, jb);

  // A topology change seen by both replicas keeps them identical.
  api.delete('Node', 'edge-2');
  for (const r of [a, b]) await eventually(() => assert.equal(r.store.hasNode('edge-2'), false));
  assert.equal(assignmentsJson(engines[0]!, a.store), assignmentsJson(engines[1]!, b.store));

  // Hysteresis: a 5 % move is not published, a 50 % move is.
  const writes = () => api.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/proximameasurements/proxima-0')).length;
  const before = writes();
  a.source.publishRtt(
    'edge-1',
    [
      { to: 'edge-2', rttMs: 8.3, reachable: true },
      { to: 'cloud-1', rttMs: 95, reachable: true },
    ],
    now + 1,
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(writes(), before);
  a.source.publishRtt(
    'edge-1',
    [
      { to: 'edge-2', rttMs: 8, reachable: true },
      { to: 'cloud-1', rttMs: 150, reachable: true },
    ],
    now + 2,
  );
  for (const r of [a, b]) await eventually(() => assert.equal(r.store.rttMs('edge-1', 'cloud-1', Date.now()), 150));
  assert.equal(writes(), before + 1);
  assert.equal(assignmentsJson(engines[0]!, a.store), assignmentsJson(engines[1]!, b.store));
});

test('k8s replicas: the CRD in manifests/crds matches what the exchange reads and writes', async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const { fixtureDir } = await import('./kube/fixtures.js');
  const { MEASUREMENT_GROUP, MEASUREMENT_KIND, MEASUREMENT_PLURAL, MEASUREMENT_VERSION, reportToKube } =
    await import('../src/sources/kubernetes/measurements.js');
  const crd = parse(readFileSync(`${fixtureDir()}/../../../manifests/crds/proximameasurements.proxima.dev.yaml`, 'utf8'));
  assert.equal(crd.metadata.name, `${MEASUREMENT_PLURAL}.${MEASUREMENT_GROUP}`);
  assert.equal(crd.spec.group, MEASUREMENT_GROUP);
  assert.equal(crd.spec.names.kind, MEASUREMENT_KIND);
  assert.equal(crd.spec.names.plural, MEASUREMENT_PLURAL);
  const version = crd.spec.versions.find((v: any) => v.name === MEASUREMENT_VERSION);
  const schema = version.schema.openAPIV3Schema.properties.spec;
  const obj = reportToKube(
    {
      replicaId: 'r',
      rtt: [{ from: 'a', to: 'b', rttMs: 1, reachable: true, atMs: 2 }],
      demand: [{ gateway: 'a', service: 's', rps: 1, atMs: 2 }],
    },
    3,
  ) as any;
  for (const k of schema.required) assert.ok(k in obj.spec, k);
  for (const k of Object.keys(obj.spec)) assert.ok(k in schema.properties, `spec.${k} is in the schema`);
  for (const list of ['rtt', 'demand']) {
    const item = schema.properties[list].items;
    for (const k of item.required) assert.ok(k in obj.spec[list][0], `${list}.${k}`);
    for (const k of Object.keys(obj.spec[list][0])) assert.ok(k in item.properties, `${list}.${k} is in the schema`);
  }
});
