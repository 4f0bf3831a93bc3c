/**
 * Property: a SotW client and a Delta client of the same gateway node, both ACKing everything, end
 * with the same resources (byte for byte) as the cache serves, after any sequence of model changes,
 * some applied back to back (coalesced into one tick) and some apart. Real gRPC over loopback with
 * the raw clients of xds-protocol-client.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomService } from '../src/model/testing.js';
import { mulberry32, type Rng } from '../src/util/rng.js';
import {
  decodeAny,
  node,
  RawClient,
  startFixture,
  TypeUrl,
  type DeltaDiscoveryResponse,
  type DiscoveryResponse,
  type Fixture,
} from './xds-protocol-client.js';

const TYPES = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration] as const;
const FULL_STATE = new Set<string>([TypeUrl.Cluster, TypeUrl.Listener]);
const ROUTE_NAMES = ['external_services', 'internal_services'];
const UNIVERSE = ['default/hello', 'default/echo', 'ns/s-0', 'ns/s-1', 'ns/s-2'];

type Held = Map<string, Map<string, string>>;
const emptyHeld = (): Held => new Map(TYPES.map((t) => [t, new Map<string, string>()]));

function resourceName(any: { type_url: string; value: Buffer }): string {
  const o = decodeAny(any);
  return String(o['name'] ?? o['cluster_name']);
}

function change(rng: Rng, fx: Fixture): void {
  const nodes = fx.store.nodes();
  const roll = rng();
  const name = UNIVERSE[Math.floor(rng() * UNIVERSE.length)]!;
  if (roll < 0.5) fx.store.upsertService(randomService(rng, name, nodes));
  else if (roll < 0.65 && fx.store.services().length > 1) fx.store.removeService(name);
  else {
    const from = nodes[Math.floor(rng() * nodes.length)]!.name;
    fx.store.setMeasuredRtt(
      from,
      nodes.filter((n) => n.name !== from).map((n) => ({ to: n.name, rttMs: 1 + Math.floor(rng() * 120), reachable: rng() < 0.9 })),
      Date.now(),
    );
  }
}

async function quiet(lastAt: () => number, ms: number): Promise<void> {
  while (Date.now() - lastAt() < ms) await new Promise((r) => setTimeout(r, 25));
}

test('SotW and Delta clients of one node end with the same resources as the cache, after random change sequences', async () => {
  for (const seed of [1, 2, 3]) {
    const fx = await startFixture();
    const client = new RawClient(fx.address);
    const sotwHeld = emptyHeld();
    const deltaHeld = emptyHeld();
    let lastAt = Date.now();
    let responses = 0;
    try {
      const sotw = client.ads();
      sotw.call.on('data', (r: DiscoveryResponse) => {
        lastAt = Date.now();
        responses++;
        const held = sotwHeld.get(r.type_url)!;
        if (FULL_STATE.has(r.type_url)) held.clear();
        for (const any of r.resources ?? []) held.set(resourceName(any), any.value.toString('hex'));
        sotw.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: namesFor(r.type_url) });
      });
      const delta = client.delta();
      delta.call.on('data', (r: DeltaDiscoveryResponse) => {
        lastAt = Date.now();
        const held = deltaHeld.get(r.type_url)!;
        for (const x of r.resources ?? []) held.set(x.name, x.resource!.value.toString('hex'));
        for (const n of r.removed_resources ?? []) held.delete(n);
        delta.send({ type_url: r.type_url, response_nonce: r.nonce });
      });
      const namesFor = (t: string): string[] =>
        t === TypeUrl.ClusterLoadAssignment ? UNIVERSE : t === TypeUrl.RouteConfiguration ? ROUTE_NAMES : [];
      for (const t of TYPES) {
        const first = t === TypeUrl.Cluster ? { node: node(`sotw-${seed}`, 'edge-1') } : {};
        sotw.send({ ...first, type_url: t, resource_names: namesFor(t) });
        delta.send({
          ...(t === TypeUrl.Cluster ? { node: node(`delta-${seed}`, 'edge-1') } : {}),
          type_url: t,
          resource_names_subscribe: namesFor(t),
        });
      }
      await quiet(() => lastAt, 300);
      const initialResponses = responses;
      const rng = mulberry32(seed);
      for (let k = 0; k < 15; k++) {
        change(rng, fx);
        if (rng() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(rng() * 40)));
      }
      await quiet(() => lastAt, 500);
      assert.ok(responses > initialResponses + 2, `seed ${seed}: the changes reached the clients`);

      const key = fx.plane.cache.keyOf('edge-1');
      const clusters = [...fx.plane.cache.view(TypeUrl.Cluster, key).wildcardNames()].sort();
      for (const t of TYPES) {
        const view = fx.plane.cache.view(t, key);
        // What a client of this node should hold: the wildcard set (CDS, LDS) or its named
        // resources that exist (EDS: of clusters that exist; a SotW client keeps stale EDS of a
        // deleted cluster, which no cluster points at any more).
        const wanted = FULL_STATE.has(t)
          ? [...view.wildcardNames()]
          : namesFor(t).filter((n) => view.get(n) && (t !== TypeUrl.ClusterLoadAssignment || clusters.includes(n)));
        const expected = Object.fromEntries(
          wanted.sort().map((n) => [
            n,
            view
              .get(n)!
              .any.subarray(view.get(n)!.any.length - view.get(n)!.valueBytes)
              .toString('hex'),
          ]),
        );
        const pick = (h: Held): Record<string, string> => Object.fromEntries(wanted.map((n) => [n, h.get(t)!.get(n)!]));
        assert.deepEqual(pick(sotwHeld), expected, `seed ${seed}: SotW ${t}`);
        assert.deepEqual(pick(deltaHeld), expected, `seed ${seed}: Delta ${t}`);
        if (FULL_STATE.has(t))
          assert.deepEqual([...sotwHeld.get(t)!.keys()].sort(), [...deltaHeld.get(t)!.keys()].sort(), `seed ${seed}: ${t} names`);
      }
      assert.deepEqual(
        [...deltaHeld.get(TypeUrl.ClusterLoadAssignment)!.keys()].sort(),
        UNIVERSE.filter((n) => fx.plane.cache.view(TypeUrl.ClusterLoadAssignment, key).get(n)).sort(),
        `seed ${seed}: Delta EDS holds exactly the existing subscribed names`,
      );
      sotw.close();
      delta.close();
    } finally {
      client.close();
      await fx.close();
    }
  }
});
