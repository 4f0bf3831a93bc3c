import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssignmentEngine } from '../src/engine/assignments.js';
import { ModelStore } from '../src/model/store.js';
import { DEFAULT_MODEL_DEFAULTS, type Endpoint, type NodeInfo, type Service } from '../src/model/types.js';
import { createProximaPolicy } from '../src/policy/proxima.js';
import { solveShares, type Solution } from '../src/policy/shares.js';
import { SolveMemo } from '../src/policy/solve-memo.js';
import { makeInput } from '../src/policy/testing.js';
import type { GatewayAssignment, PolicyInput } from '../src/policy/types.js';
import { mulberry32 } from '../src/util/rng.js';
import { nearestPolicy } from '../src/policy/nearest.js';
import { nearestBeforePolicy } from './reference/nearest-before.js';
import { createProximaBeforePolicy } from './reference/proxima-before.js';
import { reasonText } from '../src/policy/reason.js';

/**
 * The optimised `proxima` (memoised solve, gateways without demand routed lazily, previous-assignment
 * check without per-gateway maps, rows read from flat tables) against the policy as it was before
 * (test/reference/proxima-before.ts): the same assignments, reasons included, on random clusters
 * driven through the engine (full and row-only recomputes, hysteresis carrying previous assignments)
 * and on random direct inputs with unreachable links and row subsets.
 */

const NOW_MS = 1_000_000;
/** The reference predates the refined second solve: compared like with like, with it off (the memo test covers refined solves). */
const UNREFINED = { refineSegments: 1 } as const;

function randomCluster(rng: () => number): { nodes: NodeInfo[]; services: Service[] } {
  const n = 6 + Math.floor(rng() * 14);
  const nodes: NodeInfo[] = Array.from({ length: n }, (_, i) => ({
    name: `n${String(i).padStart(2, '0')}`,
    zone: `z${i % 3}`,
    region: 'edge',
    ready: true,
    labels: {},
  }));
  const services: Service[] = Array.from({ length: 4 }, (_, s) => {
    const endpoints: Endpoint[] = [];
    const count = 1 + Math.floor(rng() * 5);
    for (let e = 0; e < count; e++) {
      const node = nodes[Math.floor(rng() * n)]!.name;
      endpoints.push({ address: `10.0.${s}.${e + 1}`, port: 8012, node, ready: rng() > 0.1, capacity: 1 + Math.floor(rng() * 8) });
    }
    return { name: `default/svc-${s}`, hosts: [`svc-${s}.example.com`], protocol: 'http', endpoints };
  });
  return { nodes, services };
}

function measureRow(store: ModelStore, nodes: readonly NodeInfo[], from: NodeInfo, rng: () => number): void {
  store.setMeasuredRtt(
    from.name,
    nodes
      .filter((to) => to.name !== from.name)
      .map((to) => ({ to: to.name, rttMs: (to.zone === from.zone ? 2 : 40) + rng() * 6, reachable: rng() > 0.05 })),
    NOW_MS,
  );
}

function setDemand(store: ModelStore, nodes: readonly NodeInfo[], service: string, rng: () => number): void {
  const demand = new Map<string, number>();
  const before = store.demandByGateway(service);
  // Half the time the same gateways with new rates (a solve memo keyed on names alone would answer wrongly).
  if (before.size > 0 && rng() < 0.5) for (const g of before.keys()) demand.set(g, rng() * 60);
  else for (const node of nodes) if (rng() < 0.3) demand.set(node.name, rng() * 60);
  store.setDemand(service, demand);
}

/** An assignment with its reason as text (the optimised policy formats reasons when read). */
function plain(a: GatewayAssignment | undefined): GatewayAssignment | undefined {
  return a && { ...a, reason: reasonText(a.reason) };
}

function plainAll(table: ReadonlyMap<string, GatewayAssignment>): Map<string, GatewayAssignment> {
  return new Map([...table].map(([g, a]) => [g, plain(a)!]));
}

function tableOf(engine: AssignmentEngine): Record<string, Record<string, GatewayAssignment>> {
  const out: Record<string, Record<string, GatewayAssignment>> = {};
  for (const s of engine.services().sort()) {
    out[s] = {};
    for (const [g, a] of engine.forService(s)!)
      out[s]![g] = { ...a, reason: reasonText(a.reason), localities: a.localities.map((l) => ({ ...l })) };
  }
  return out;
}

test('optimised proxima equals the reference on random clusters through the engine (full and row-only recomputes)', () => {
  const rng = mulberry32(2024);
  let rowChanges = 0;
  for (let cluster = 0; cluster < 12; cluster++) {
    const { nodes, services } = randomCluster(rng);
    const store = new ModelStore();
    store.replaceTopology({ nodes, services, latency: [], defaults: DEFAULT_MODEL_DEFAULTS });
    for (const node of nodes) measureRow(store, nodes, node, rng);
    for (const s of services) setDemand(store, nodes, s.name, rng);
    const optimised = new AssignmentEngine({ store, policy: createProximaPolicy(UNREFINED), nowMs: () => NOW_MS });
    const reference = new AssignmentEngine({ store, policy: createProximaBeforePolicy(), nowMs: () => NOW_MS });
    optimised.start();
    reference.start();
    try {
      assert.deepEqual(tableOf(optimised), tableOf(reference), `cluster ${cluster}: full compute`);
      for (let step = 0; step < 25; step++) {
        const what = rng();
        if (what < 0.6) {
          measureRow(store, nodes, nodes[Math.floor(rng() * nodes.length)]!, rng);
          rowChanges++;
        } else if (what < 0.85) setDemand(store, nodes, services[Math.floor(rng() * services.length)]!.name, rng);
        else {
          const s = store.service(services[Math.floor(rng() * services.length)]!.name)!;
          const endpoints = s.endpoints.map((e) => (rng() < 0.3 ? { ...e, ready: !e.ready } : e));
          store.upsertService({ ...s, endpoints });
        }
        optimised.flush();
        reference.flush();
        assert.deepEqual(tableOf(optimised), tableOf(reference), `cluster ${cluster} step ${step}`);
      }
    } finally {
      optimised.stop();
      reference.stop();
    }
  }
  assert.ok(rowChanges > 100, `${rowChanges} RTT rows moved`);
});

function randomInput(rng: () => number, previous?: ReadonlyMap<string, GatewayAssignment>, rows?: ReadonlySet<string>): PolicyInput {
  const gateways = Array.from({ length: 3 + Math.floor(rng() * 10) }, (_, i) => `g${i}`);
  const backends: Record<string, [number, number]> = { cloud: [2, 8] };
  for (const g of gateways) if (rng() < 0.4) backends[g] = [1, 1 + Math.floor(rng() * 4)];
  const rtt: Record<string, number> = {};
  const all = [...gateways, 'cloud'];
  for (const a of all) for (const b of all) if (a !== b) rtt[`${a}>${b}`] = 1 + rng() * 60;
  const unreachable = all.flatMap((a) => all.filter((b) => a !== b && rng() < 0.08).map((b) => `${a}>${b}`));
  const demandRps: Record<string, number> = {};
  for (const g of gateways) if (rng() < 0.35) demandRps[g] = rng() * 300;
  const input = makeInput({
    gateways,
    backends,
    rtt,
    unreachable,
    demandRps,
    serviceTimeMs: 5 + rng() * 20,
    ...(previous ? { previous } : {}),
  });
  return rows ? { ...input, rows } : input;
}

test('optimised proxima equals the reference on random direct inputs, with previous assignments and row subsets', () => {
  const rng = mulberry32(77);
  const optimised = createProximaPolicy(UNREFINED);
  const reference = createProximaBeforePolicy();
  for (let k = 0; k < 300; k++) {
    const seed = Math.floor(rng() * 2 ** 31);
    const first = randomInput(mulberry32(seed));
    const want0 = reference.assign(first);
    assert.deepEqual(plainAll(optimised.assign(first)), want0, `case ${k}: no previous`);
    // The same cluster again with the first result as previous (hysteresis, keep-all) and maybe a row subset.
    const rows = rng() < 0.5 ? new Set(first.gateways.filter(() => rng() < 0.3)) : undefined;
    const second = randomInput(mulberry32(seed), want0, rows);
    const want = reference.assign(second);
    const got = optimised.assign(second);
    for (const g of rows ?? second.gateways) assert.deepEqual(plain(got.get(g)), want.get(g), `case ${k}: ${g}`);
  }
});

test('a memoised solve answers exactly what a fresh solve does, and only for the same inputs', () => {
  const rng = mulberry32(9);
  const memo = new SolveMemo<Solution>();
  for (let k = 0; k < 200; k++) {
    const seed = Math.floor(rng() * 2 ** 31);
    // Same service name every time: a stale entry answering for changed inputs would show.
    const input = { ...randomInput(mulberry32(seed)), service: 'default/one' };
    const demand = input.gateways.map((g) => input.demandRps(g));
    const options = {
      models: input.backends.map((b) => ({
        pods: b.readyEndpoints,
        slotsPerPod: b.capacity / b.readyEndpoints,
        serviceTimeMs: 12,
        serviceCv2: 1,
      })),
      maxUtilisation: 0.8,
      segments: 12,
      spacingPower: 1.5,
      demandRps: demand,
    };
    // Then the same gateways with one rate, one service time, the cost curve's cut or one RTT moved: each must miss.
    const g0 = input.gateways[demand.findIndex((d) => d > 0)];
    const coarseLoads = input.backends.map((b) => solveShares(input, options).nodeRps.get(b.node) ?? 0);
    const variants = [
      options,
      { ...options, refineAroundRps: coarseLoads, refineSegments: 8 },
      { ...options, refineAroundRps: coarseLoads.map((rps, i) => (i === 0 ? rps * 3 + 1 : rps)), refineSegments: 8 },
      { ...options, demandRps: demand.map((d) => (d > 0 ? d * 1.5 : d)) },
      { ...options, models: options.models.map((m, i) => (i === 0 ? { ...m, serviceTimeMs: 30 } : m)) },
      { ...options, segments: 6 },
      { ...options, spacingPower: 1 },
    ];
    const movedRow: PolicyInput = { ...input, rttMs: (a, b) => (a === g0 ? 2 * input.rttMs(a, b) : input.rttMs(a, b)) };
    for (const [variantInput, variant] of [...variants.map((v) => [input, v] as const), [movedRow, options] as const]) {
      const fresh = solveShares(variantInput, variant);
      for (let repeat = 0; repeat < 2; repeat++) {
        const memoised = solveShares(variantInput, variant, memo);
        assert.equal(memoised.overloaded, fresh.overloaded, `case ${k}`);
        assert.equal(memoised.refinedAtOptimum, fresh.refinedAtOptimum, `case ${k}`);
        assert.deepEqual(memoised.nodeRps, fresh.nodeRps, `case ${k}`);
        for (const g of input.gateways) assert.deepEqual(memoised.sharesOf(g), fresh.sharesOf(g), `case ${k} ${g}`);
      }
    }
  }
  assert.ok(memo.hits >= 600, `${memo.hits} hits`);
  assert.ok(memo.misses >= 600, `${memo.misses} misses: changed inputs were not answered from the memo`);
});

test('nearest reading rows through a memoised input equals the reference on random inputs', () => {
  const rng = mulberry32(31);
  for (let k = 0; k < 300; k++) {
    const input = randomInput(mulberry32(Math.floor(rng() * 2 ** 31)));
    // Reasons compare by their text (nearest formats its reason when it is read).
    const texts = (m: Map<string, GatewayAssignment>) => new Map([...m].map(([g, a]) => [g, { ...a, reason: reasonText(a.reason) }]));
    assert.deepEqual(texts(nearestPolicy.assign(input)), texts(nearestBeforePolicy.assign(input)), `case ${k}`);
  }
});
