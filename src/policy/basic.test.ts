import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evenPolicy } from './even.js';
import { nearestPolicy } from './nearest.js';
import { byLatency, MAX_FAILOVER_LEVELS } from './tiers.js';
import { makeInput } from './testing.js';
import { mulberry32 } from '../util/rng.js';
import type { NodeCapacity, PolicyInput } from './types.js';
import { reasonText } from './reason.js';

/** A small hand-checkable world: RTTs from a table, everything reachable unless listed. */
function input(
  backends: NodeCapacity[],
  rtt: Record<string, number>,
  opts: { gateways?: string[]; unreachable?: string[] } = {},
): PolicyInput {
  return {
    service: 'ns/svc',
    gateways: opts.gateways ?? ['edge-1', 'edge-2'],
    backends,
    rttMs: (from, to) => (from === to ? 0.2 : (rtt[`${from}>${to}`] ?? rtt[`${to}>${from}`] ?? 50)),
    reachable: (_from, to) => !(opts.unreachable ?? []).includes(to),
    demandRps: () => 0,
    serviceTimeMs: () => 10,
  };
}

const cap = (node: string, readyEndpoints = 1): NodeCapacity => ({ node, readyEndpoints, capacity: readyEndpoints * 10 });
const rtt = { 'edge-1>edge-2': 20, 'edge-1>cloud': 50, 'edge-2>cloud': 100 };

test('even: one priority, weights by ready endpoint count, same for every gateway', () => {
  const out = evenPolicy.assign(input([cap('cloud', 3), cap('edge-1', 1)], rtt));
  for (const g of ['edge-1', 'edge-2']) {
    assert.deepEqual(out.get(g)?.localities, [
      { node: 'cloud', priority: 0, weight: 3 },
      { node: 'edge-1', priority: 0, weight: 1 },
    ]);
  }
});

test('nearest: local first, then failover by latency', () => {
  const out = nearestPolicy.assign(input([cap('cloud'), cap('edge-1'), cap('edge-2')], rtt));
  assert.deepEqual(out.get('edge-1')?.localities, [
    { node: 'edge-1', priority: 0, weight: 1000 },
    { node: 'edge-2', priority: 1, weight: 1 },
    { node: 'cloud', priority: 2, weight: 1 },
  ]);
  assert.deepEqual(out.get('edge-2')?.localities, [
    { node: 'edge-2', priority: 0, weight: 1000 },
    { node: 'edge-1', priority: 1, weight: 1 },
    { node: 'cloud', priority: 2, weight: 1 },
  ]);
});

test('nearest: no local pod → the nearest node, not a far one', () => {
  const out = nearestPolicy.assign(input([cap('cloud'), cap('edge-1')], rtt));
  assert.equal(out.get('edge-2')?.localities[0]?.node, 'edge-1');
  assert.match(reasonText(out.get('edge-2')?.reason ?? ''), /edge-1 at 20\.0 ms/);
});

test('nearest: an unreachable node never gets priority 0 and fails over last', () => {
  const out = nearestPolicy.assign(input([cap('cloud'), cap('edge-1'), cap('edge-2')], rtt, { unreachable: ['edge-1'] }));
  const a = out.get('edge-1')!;
  assert.equal(a.localities[0]?.node, 'edge-2');
  assert.equal(a.localities.at(-1)?.node, 'edge-1');
});

test('no ready endpoints: empty localities with a reason', () => {
  for (const p of [evenPolicy, nearestPolicy]) {
    const a = p.assign(input([], rtt)).get('edge-1');
    assert.deepEqual(a?.localities, []);
    assert.equal(a?.reason, 'no ready endpoints');
  }
});

test('failover levels: RTTs within a band share a level, so probe noise does not reorder them', () => {
  const out = nearestPolicy.assign(
    input([cap('a'), cap('b'), cap('c'), cap('d')], { 'g>a': 5, 'g>b': 50, 'g>c': 53, 'g>d': 100 }, { gateways: ['g'] }),
  );
  assert.deepEqual(
    out.get('g')!.localities.map((l) => [l.node, l.priority]),
    [
      ['a', 0],
      ['b', 1],
      ['c', 1],
      ['d', 2],
    ],
  );
});

test('failover levels are capped and contiguous', () => {
  const nodes = Array.from({ length: 20 }, (_, i) => `n${String(i).padStart(2, '0')}`);
  const table: Record<string, number> = {};
  nodes.forEach((n, i) => (table[`g>${n}`] = 10 * 1.5 ** i));
  const out = nearestPolicy.assign(
    input(
      nodes.map((n) => cap(n)),
      table,
      { gateways: ['g'] },
    ),
  );
  const prios = [...new Set(out.get('g')!.localities.map((l) => l.priority))];
  assert.deepEqual(
    prios,
    Array.from({ length: MAX_FAILOVER_LEVELS + 1 }, (_, i) => i),
  );
});

test('nearest: priority 0 is the first node byLatency ranks, ties by name and infinite RTTs included', () => {
  const rng = mulberry32(8);
  let ties = 0;
  for (let round = 0; round < 300; round++) {
    const nodes = Array.from({ length: 2 + Math.floor(rng() * 12) }, (_, i) => `n-${String.fromCharCode(97 + ((i * 7) % 26))}${i}`);
    const rtt: Record<string, number> = {};
    for (const a of nodes)
      for (const b of nodes) if (a < b) rtt[`${a}>${b}`] = rng() < 0.1 ? Infinity : [1, 2, 2, 5, 30][Math.floor(rng() * 5)]!;
    const world = makeInput({
      gateways: nodes,
      backends: Object.fromEntries(nodes.filter(() => rng() < 0.7).map((n) => [n, [1, 10] as const])),
      rtt,
      unreachable: nodes.filter(() => rng() < 0.15),
    });
    const got = nearestPolicy.assign(world);
    for (const g of world.gateways) {
      const ranked = byLatency(world, g);
      const first = got.get(g)!.localities.find((l) => l.priority === 0)?.node;
      assert.equal(first, ranked[0]?.node, `round ${round}, gateway ${g}`);
      if (ranked.length > 1 && world.rttMs(g, ranked[0]!.node) === world.rttMs(g, ranked[1]!.node)) ties++;
    }
  }
  assert.ok(ties > 50, `ties exercised ${ties} times`);
});
