import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelStore } from '../../model/store.js';
import { mulberry32, type Rng } from '../../util/rng.js';
import { TypeUrl } from '../resources/types.js';
import { buildSnapshot } from './build.js';
import type { Snapshot } from './snapshot.js';
import { randomService, randomTopology, replica, snapshotBytes } from './testing.js';

const SEEDS = Array.from({ length: 25 }, (_, i) => i + 1);

test('the same model gives byte-identical snapshots with equal versions (two replicas agree)', () => {
  for (const seed of SEEDS) {
    const topology = randomTopology(mulberry32(seed));
    const a = buildSnapshot(replica(topology).input);
    const b = buildSnapshot(replica(topology).input);
    assert.equal(a.version, b.version, `seed ${seed}`);
    assert.equal(snapshotBytes(a), snapshotBytes(b), `seed ${seed}`);
  }
});

test('versions are content hashes: equal versions exactly when the bytes are equal', () => {
  const built = SEEDS.map((seed) => buildSnapshot(replica(randomTopology(mulberry32(seed))).input));
  // Seed 1 again with one service's endpoint moved: different bytes, different version.
  const r = replica(randomTopology(mulberry32(1)));
  const s0 = r.store.services()[0]!;
  r.store.upsertService({ ...s0, endpoints: s0.endpoints.map((e, i) => (i === 0 ? { ...e, port: e.port + 1 } : e)) });
  built.push(buildSnapshot(r.input));
  for (let i = 0; i < built.length; i++)
    for (let j = i + 1; j < built.length; j++)
      assert.equal(
        built[i]!.version === built[j]!.version,
        snapshotBytes(built[i]!) === snapshotBytes(built[j]!),
        `snapshots ${i} and ${j}`,
      );
});

type Change = (store: ModelStore) => void;

function randomChange(rng: Rng, store: ModelStore, k: number): Change {
  const nodes = store.nodes();
  const services = store.services();
  const roll = rng();
  if (roll < 0.35 && services.length > 0) {
    const s = services[Math.floor(rng() * services.length)]!;
    const next = randomService(rng, s.name, nodes);
    return (st) => st.upsertService(next);
  }
  if (roll < 0.5) {
    const next = randomService(rng, `ns/new-${k}`, nodes);
    return (st) => st.upsertService(next);
  }
  if (roll < 0.6 && services.length > 1) {
    const name = services[Math.floor(rng() * services.length)]!.name;
    return (st) => st.removeService(name);
  }
  if (roll < 0.7) {
    // A node turns ready or not ready: every ClusterLoadAssignment may change.
    const flip = nodes[Math.floor(rng() * nodes.length)]!.name;
    return (st) =>
      st.replaceTopology({
        nodes: st.nodes().map((n) => (n.name === flip ? { ...n, ready: !n.ready } : n)),
        latency: st.configuredLatency(),
        services: st.services(),
        defaults: st.defaults,
      });
  }
  const from = nodes[Math.floor(rng() * nodes.length)]!.name;
  const row = nodes.filter((n) => n.name !== from).map((n) => ({ to: n.name, rttMs: 1 + Math.floor(rng() * 60), reachable: rng() < 0.95 }));
  return (st) => st.setMeasuredRtt(from, row, 0);
}

test('random changes give the same final snapshot applied one by one (incremental builds) or at once (one build)', () => {
  for (const seed of SEEDS) {
    const rng = mulberry32(seed * 101);
    const topology = randomTopology(rng);
    const stepwise = replica(topology);
    const atOnce = replica(topology);
    let snapshot: Snapshot = buildSnapshot(stepwise.input);
    const first = snapshot;
    for (let k = 0; k < 12; k++) {
      const change = randomChange(rng, stepwise.store, k);
      change(stepwise.store);
      change(atOnce.store);
      stepwise.engine.flush();
      snapshot = buildSnapshot(stepwise.input, snapshot);
    }
    atOnce.engine.flush();
    const fresh = buildSnapshot(atOnce.input);
    assert.equal(snapshot.version, fresh.version, `seed ${seed}`);
    assert.equal(snapshotBytes(snapshot), snapshotBytes(fresh), `seed ${seed}`);
    assert.notEqual(snapshot.version, first.version, `seed ${seed}: the changes changed something`);
  }
});

test('an unchanged part is reused by identity, its encoded bytes included', () => {
  const r = replica(randomTopology(mulberry32(7)));
  const before = buildSnapshot(r.input);
  const [changed, ...others] = r.store.services();
  r.store.upsertService({ ...changed!, endpoints: changed!.endpoints.map((e) => ({ ...e, port: e.port + 1 })) });
  r.engine.flush();
  const after = buildSnapshot(r.input, before);
  for (const s of others) assert.equal(after.endpoints.get(s.name), before.endpoints.get(s.name), s.name);
  assert.notEqual(after.endpoints.get(changed!.name), before.endpoints.get(changed!.name));
  assert.equal(after.shared.get(TypeUrl.Listener), before.shared.get(TypeUrl.Listener), 'routes unchanged: the same listener set');
  assert.equal(
    after.shared.get(TypeUrl.Cluster)!.byName.get(others[0]!.name),
    before.shared.get(TypeUrl.Cluster)!.byName.get(others[0]!.name),
  );
  // Nothing changed at all: the same version, and every part is the previous object.
  const again = buildSnapshot(r.input, after);
  assert.equal(again.version, after.version);
  assert.equal(again.shared.get(TypeUrl.Cluster), after.shared.get(TypeUrl.Cluster));
});
