import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelStore } from './store.js';
import { DEFAULT_MODEL_DEFAULTS } from './types.js';
import { mulberry32 } from '../util/rng.js';

const names = ['a', 'b', 'c', 'd'];

function store(): ModelStore {
  const s = new ModelStore();
  s.replaceTopology({
    nodes: names.map((name) => ({ name, zone: name, region: 'r', ready: true, labels: {} })),
    latency: [
      { from: 'a', to: 'b', rttMs: 10 },
      { from: 'b', to: 'a', rttMs: 12 },
      { from: 'a', to: 'c', rttMs: 30 },
      { from: 'x', to: 'a', rttMs: 7 },
    ],
    services: [],
    defaults: DEFAULT_MODEL_DEFAULTS,
  });
  return s;
}

function assertSameAsStore(s: ModelStore, nowMs: number): void {
  const m = s.latencyMatrix(nowMs);
  const n = m.names.length;
  assert.equal(n, names.length);
  for (const from of names) {
    for (const to of names) {
      const k = m.index.get(from)! * n + m.index.get(to)!;
      assert.equal(m.rttMs[k], s.rttMs(from, to, nowMs), `rtt ${from}→${to} at ${nowMs}`);
      assert.equal(m.reachable[k] === 1, s.reachable(from, to, nowMs), `reachable ${from}→${to} at ${nowMs}`);
    }
  }
}

test('latency matrix: equals rttMs/reachable for every pair, through measurements and their expiry', () => {
  const s = store();
  assertSameAsStore(s, 0);
  s.setMeasuredRtt(
    'a',
    [
      { to: 'b', rttMs: 33, reachable: true },
      { to: 'd', rttMs: 0, reachable: false },
    ],
    1000,
  );
  s.setMeasuredRtt('c', [{ to: 'a', rttMs: 4, reachable: true }], 5000);
  s.setMeasuredRtt('zz', [{ to: 'a', rttMs: 1, reachable: false }], 5000);
  for (const t of [1000, 5000, 1000 + s.measuredRttTtlMs, 1001 + s.measuredRttTtlMs, 5001 + s.measuredRttTtlMs, 2000])
    assertSameAsStore(s, t);
  assert.equal(s.latencyMatrix(1500).rttMs[1], 33, 'fresh measurement wins');
  s.measuredRttTtlMs = 100;
  assertSameAsStore(s, 1500);
  s.removeNode('d');
  assert.equal(s.latencyMatrix(1500).names.length, 3, 'node removal rebuilds');
});

test('latency matrix: cached while nothing changes, rebuilt on a change', () => {
  const s = store();
  const first = s.latencyMatrix(10);
  assert.equal(s.latencyMatrix(20), first);
  s.setMeasuredRtt('a', [{ to: 'b', rttMs: 1, reachable: true }], 20);
  const second = s.latencyMatrix(20);
  assert.notEqual(second, first);
  assert.equal(s.latencyMatrix(21), second);
  assert.notEqual(s.latencyMatrix(21 + s.measuredRttTtlMs), second, 'a row expired');
});

test('latency matrix: rows patched after probe reports equal the pairwise lookups, both layouts, on random report sequences', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rng = mulberry32(seed);
    const s = new ModelStore();
    const nodes = Array.from({ length: 12 }, (_, i) => `n${i}`);
    s.replaceTopology({
      nodes: nodes.map((name) => ({ name, zone: name, region: 'r', ready: true, labels: {} })),
      latency: [{ from: 'n0', to: 'n1', rttMs: 9 }],
      services: [],
      defaults: DEFAULT_MODEL_DEFAULTS,
    });
    let nowMs = 1_000;
    s.latencyMatrix(nowMs);
    for (let step = 0; step < 15; step++) {
      nowMs += Math.floor(rng() * 20_000);
      const reports = 1 + Math.floor(rng() * 3);
      for (let r = 0; r < reports; r++) {
        const from = nodes[Math.floor(rng() * nodes.length)]!;
        const row = nodes.filter((to) => to !== from && rng() < 0.7).map((to) => ({ to, rttMs: 1 + rng() * 80, reachable: rng() > 0.1 }));
        s.setMeasuredRtt(from, row, nowMs);
      }
      const m = s.latencyMatrix(nowMs);
      const n = m.names.length;
      for (const from of nodes)
        for (const to of nodes) {
          const i = m.index.get(from)!;
          const j = m.index.get(to)!;
          const what = `seed ${seed} step ${step} ${from}→${to}`;
          assert.equal(m.rttMs[i * n + j], s.rttMs(from, to, nowMs), `rtt ${what}`);
          assert.equal(m.reachable[i * n + j] === 1, s.reachable(from, to, nowMs), `reachable ${what}`);
          assert.equal(m.rttMsByTo[j * n + i], m.rttMs[i * n + j], `by destination ${what}`);
          assert.equal(m.reachableByTo[j * n + i], m.reachable[i * n + j], `reachable by destination ${what}`);
        }
    }
  }
});
