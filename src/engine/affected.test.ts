import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelStore } from '../model/store.js';
import { randomService, randomTopology } from '../model/testing.js';
import { faastPolicy } from '../policy/faast.js';
import { nearestPolicy } from '../policy/nearest.js';
import { proximaPolicy } from '../policy/proxima.js';
import type { Policy } from '../policy/types.js';
import { mulberry32, type Rng } from '../util/rng.js';
import { AssignmentEngine } from './assignments.js';
import { affectedByLinks } from './affected.js';

function tableOf(engine: AssignmentEngine): string {
  return JSON.stringify(
    engine
      .services()
      .sort()
      .map((s) => [s, [...engine.forService(s)!].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, a]) => [g, a.localities])]),
  );
}

/** One random model change: mostly measured RTT rows (partial or whole), sometimes a service or its demand. */
function change(rng: Rng, store: ModelStore, k: number): void {
  const nodes = store.nodes();
  const roll = rng();
  if (roll < 0.15) {
    const s = store.services()[Math.floor(rng() * store.services().length)]!;
    store.upsertService(randomService(rng, s.name, nodes));
  } else if (roll < 0.25) {
    const s = store.services()[Math.floor(rng() * store.services().length)]!;
    store.setDemand(s.name, new Map(nodes.filter(() => rng() < 0.4).map((n) => [n.name, 1 + rng() * 30] as const)));
  } else {
    const from = nodes[Math.floor(rng() * nodes.length)]!.name;
    const row = nodes
      .filter((n) => n.name !== from && rng() < 0.6)
      .map((n) => ({ to: n.name, rttMs: 1 + Math.floor(rng() * 80) + k / 100, reachable: rng() < 0.95 }));
    store.setMeasuredRtt(from, row, 0);
  }
}

for (const policy of [nearestPolicy, faastPolicy, proximaPolicy] as Policy[]) {
  test(`${policy.name}: recomputing only the rows an RTT change can affect equals a full recompute, on random change sequences`, () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = mulberry32(seed);
      const store = new ModelStore();
      // Every move is announced, so the full recompute sees exactly what the incremental one was told.
      store.measuredRttChangeMs = 0;
      store.measuredRttChangeRatio = 0;
      store.replaceTopology(randomTopology(rng));
      let incrementalWork = 0;
      let fullWork = 0;
      const incremental = new AssignmentEngine({ store, policy, nowMs: () => 0, onRecompute: (n) => (incrementalWork += n) });
      const full = new AssignmentEngine({ store, policy, nowMs: () => 0, onRecompute: (n) => (fullWork += n) });
      for (const e of [incremental, full]) {
        e.driveBy(() => {});
        e.start();
      }
      let partial = 0;
      incremental.onChange(() => partial++);
      for (let k = 0; k < 25; k++) {
        change(rng, store, k);
        incremental.flush();
        full.invalidateAll();
        full.flush();
        assert.equal(tableOf(incremental), tableOf(full), `seed ${seed}, change ${k}`);
      }
      assert.ok(partial > 0, `seed ${seed}: the changes changed assignments`);
      assert.ok(incrementalWork < fullWork, `seed ${seed}: incremental recomputed ${incrementalWork} services, full ${fullWork}`);
    }
  });
}

test('an RTT link matters to the row of its gateway for the services with a backend at its far end, and only those', () => {
  const store = new ModelStore();
  store.replaceTopology(randomTopology(mulberry32(3)));
  const services = store.services();
  const target = services[0]!.endpoints.find((e) => e.ready)?.node ?? services[0]!.endpoints[0]!.node;
  const links = new Map([['n-0', new Set([target])]]);
  const rows = affectedByLinks(
    store,
    services.map((s) => s.name),
    links,
    'row',
  );
  for (const s of services) {
    const hasBackend = s.endpoints.some((e) => e.node === target && e.ready && store.node(e.node)?.ready !== false);
    assert.deepEqual(rows.rows.get(s.name), hasBackend ? ['n-0'] : undefined, s.name);
  }
  const joint = affectedByLinks(
    store,
    services.map((s) => s.name),
    links,
    'joint',
  );
  assert.deepEqual([...joint.services].sort(), [...rows.rows.keys()].sort());
  assert.equal(joint.rows.size, 0);
});
