import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DemandModel } from './demand.js';
import type { ClusterLoad } from './parse.js';

const load = (issued: number, intervalMs = 1000, node = 'n1', inProgress = 0, completed = issued): ClusterLoad => ({
  service: 's',
  intervalMs,
  localities: [{ node, issued, succeeded: completed, errors: 0, inProgress }],
});

test('demand = issued / interval, smoothed with a time constant', () => {
  const m = new DemandModel({ tauMs: 3000 });
  m.observe('src1', 'g1', [load(100, 2000)], 2000);
  assert.equal(m.demandByGateway('s').get('g1'), 50);
  m.observe('src1', 'g1', [load(200, 1000)], 3000); // 200 rps for 1 s: weight 1 - e^(-1/3)
  const w = 1 - Math.exp(-1 / 3);
  assert.ok(Math.abs(m.demandByGateway('s').get('g1')! - (50 + w * 150)) < 1e-9);
});

test('demand of several clients on one node adds up; a removed client drops out', () => {
  const m = new DemandModel({ tauMs: 3000 });
  m.observe('a', 'g1', [load(10)], 1000);
  m.observe('b', 'g1', [load(30)], 1000);
  m.observe('c', 'g2', [load(5)], 1000);
  assert.deepEqual(Object.fromEntries(m.demandByGateway('s')), { g1: 40, g2: 5 });
  assert.deepEqual([...m.removeSource('b')], ['s']);
  assert.deepEqual(Object.fromEntries(m.demandByGateway('s')), { g1: 10, g2: 5 });
});

test('a cluster missing from a report decays towards zero and is eventually dropped', () => {
  const m = new DemandModel({ tauMs: 1000 });
  m.observe('a', 'g1', [load(100)], 1000);
  const touched = m.observe('a', 'g1', [], 2000);
  assert.ok(touched.has('s'));
  assert.ok(Math.abs(m.demandByGateway('s').get('g1')! - 100 * Math.exp(-1)) < 1e-9);
  m.observe('a', 'g1', [], 30_000);
  assert.equal(m.demandByGateway('s').size, 0);
});

test('silent clients decay after staleAfterMs', () => {
  const m = new DemandModel({ tauMs: 1000 });
  m.observe('a', 'g1', [load(100)], 1000);
  assert.equal(m.decay(2000, 5000).size, 0);
  assert.deepEqual([...m.decay(7000, 5000)], ['s']);
  assert.ok(Math.abs(m.demandByGateway('s').get('g1')! - 100 * Math.exp(-6)) < 1e-9);
});

test("Little's law: response time = in-progress / completion rate; service time subtracts RTT", () => {
  const m = new DemandModel({ tauMs: 1000 });
  // 50 completions/s with 2.5 in flight on average -> 50 ms response time at n1 from g1.
  m.observe('a', 'g1', [load(50, 1000, 'n1', 2.5)], 1000);
  // From g2, n1 is 20 ms further away: 100 completions/s, 7 in flight -> 70 ms.
  m.observe('b', 'g2', [load(100, 1000, 'n1', 7)], 1000);
  const rtt = (g: string) => (g === 'g1' ? 10 : 30);
  const st = m.serviceTimeByNode('s', rtt);
  // (50·(50−10) + 100·(70−30)) / 150 = 40
  assert.ok(Math.abs(st.get('n1')! - 40) < 1e-9, `got ${st.get('n1')}`);
  // An observation below the RTT says nothing about the node: no estimate rather than 0.
  assert.equal(m.serviceTimeByNode('s', () => 1000).has('n1'), false);
});

test('demand rises fast and falls slowly; response times wait for enough completions', () => {
  const m = new DemandModel({ tauMs: 6000, riseTauMs: 500, minCompletions: 50 });
  m.observe('a', 'g1', [load(10, 1000, 'n1', 5)], 1000);
  assert.equal(m.responseTimeByNode('s').size, 0, '10 completions: not yet');
  m.observe('a', 'g1', [load(100, 1000, 'n1', 5)], 2000);
  const up = m.demandByGateway('s').get('g1')!;
  assert.ok(up > 10 + 0.85 * 90, `rose to ${up} within one report`);
  m.observe('a', 'g1', [load(10, 1000, 'n1', 5)], 3000);
  const down = m.demandByGateway('s').get('g1')!;
  assert.ok(down > up - 0.2 * (up - 10), `fell only to ${down}`);
  assert.equal(m.responseTimeByNode('s').get('n1')?.length, 1, '120 completions: used');
});

test('observed service time is blended with the configured default until enough requests were seen', async () => {
  const { shrinkTowardPrior } = await import('./server.js');
  assert.equal(shrinkTowardPrior(60, 0, 20, 200), 20, 'nothing seen: the default');
  assert.equal(shrinkTowardPrior(60, 200, 20, 200), 40, 'as many as the prior: halfway');
  assert.ok(Math.abs(shrinkTowardPrior(60, 20_000, 20, 200) - 60) < 0.5, 'many: the observation');
  assert.equal(shrinkTowardPrior(60, 50, 20, 0), 60, 'no prior: the observation');
});
