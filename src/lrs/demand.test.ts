import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DemandModel, steady } from './demand.js';
import type { ClusterLoad } from './parse.js';

const load = (issued: number, intervalMs = 1000, node = 'n1', inProgress = 0, completed = issued): ClusterLoad => ({
  service: 's',
  intervalMs,
  localities: [{ node, issued, succeeded: completed, errors: 0, inProgress }],
});

test('demand = issued / interval, averaged since it last changed; a step restarts it', () => {
  const m = new DemandModel({ demandWindowMs: 30_000 });
  m.observe('src1', 'g1', [load(100, 2000)], 2000);
  assert.equal(m.demandByGateway('s').get('g1'), 50);
  m.observe('src1', 'g1', [load(55, 1000)], 3000); // within Poisson noise of 50/s: the mean over 3 s
  assert.ok(Math.abs(m.demandByGateway('s').get('g1')! - 155 / 3) < 1e-9, `${m.demandByGateway('s').get('g1')}`);
  m.observe('src1', 'g1', [load(200, 1000)], 4000); // 20 σ off: a real step, taken whole
  assert.equal(m.demandByGateway('s').get('g1'), 200);
});

test('demand of several clients on one node adds up; a removed client drops out', () => {
  const m = new DemandModel({ demandWindowMs: 3000 });
  m.observe('a', 'g1', [load(10)], 1000);
  m.observe('b', 'g1', [load(30)], 1000);
  m.observe('c', 'g2', [load(5)], 1000);
  assert.deepEqual(Object.fromEntries(m.demandByGateway('s')), { g1: 40, g2: 5 });
  assert.deepEqual([...m.removeSource('b')], ['s']);
  assert.deepEqual(Object.fromEntries(m.demandByGateway('s')), { g1: 10, g2: 5 });
});

test('a cluster missing from a report had no requests: its demand drops at once and it is dropped', () => {
  const m = new DemandModel({ demandWindowMs: 30_000 });
  m.observe('a', 'g1', [load(100)], 1000);
  const touched = m.observe('a', 'g1', [], 2000);
  assert.ok(touched.has('s'));
  assert.equal(m.demandByGateway('s').size, 0);
});

test('silent clients count as idle after staleAfterMs', () => {
  const m = new DemandModel({ demandWindowMs: 30_000 });
  m.observe('a', 'g1', [load(100)], 1000);
  assert.equal(m.decay(2000, 5000).size, 0);
  assert.equal(m.demandByGateway('s').get('g1'), 100);
  assert.deepEqual([...m.decay(7000, 5000)], ['s']);
  assert.equal(m.demandByGateway('s').size, 0);
});

test("Little's law: time at the node = (in progress − on the wire) / completion rate", () => {
  const m = new DemandModel({ demandWindowMs: 1000 });
  const rtt = (g: string) => (g === 'g1' ? 10 : 30);
  // Two reports each (the first of a flow does not count for Little's law).
  for (const t of [1000, 2000]) {
    // 50 completions/s with 2.5 in flight on average -> 50 ms response time at n1 from g1, 10 ms of it on the wire.
    m.observe('a', 'g1', [load(50, 1000, 'n1', 2.5)], t, rtt);
    // From g2, n1 is 20 ms further away: 100 completions/s, 7 in flight -> 70 ms, 30 ms of it on the wire.
    m.observe('b', 'g2', [load(100, 1000, 'n1', 7)], t, rtt);
  }
  const st = m.serviceTimeByNode('s');
  // (50·(50−10) + 100·(70−30)) / 150 = 40
  assert.ok(Math.abs(st.get('n1')! - 40) < 1e-9, `got ${st.get('n1')}`);
  // An observation below the RTT says nothing about the node: no estimate rather than 0.
  const far = new DemandModel({ demandWindowMs: 1000 });
  for (const t of [1000, 2000]) far.observe('a', 'g1', [load(50, 1000, 'n1', 2.5)], t, () => 1000);
  assert.equal(far.serviceTimeByNode('s').has('n1'), false);
});

test('gateways are weighed by precision: the one next to the node outweighs one across a slow link', () => {
  const m = new DemandModel({ demandWindowMs: 1000 });
  for (const t of [1000, 2000]) {
    // g1 is next to n1 (RTT 0): 50 rps, 1 in flight -> 20 ms at the node, response 20 ms.
    m.observe('a', 'g1', [load(50, 1000, 'n1', 1)], t, () => 0);
    // g2 is 100 ms away and its noisy snapshot says 35 ms at the node: 50 rps, 6.75 in flight -> 135 ms.
    m.observe('b', 'g2', [load(50, 1000, 'n1', 6.75)], t, () => 100);
  }
  const st = m.serviceTimeByNode('s').get('n1')!;
  // Precisions 50/0.020 = 2500 and 50/0.135 ≈ 370: (20·2500 + 35·370.4) / 2870.4 ≈ 21.9, not the plain 27.5.
  const p1 = 50 / 0.02;
  const p2 = 50 / 0.135;
  assert.ok(Math.abs(st - (20 * p1 + 35 * p2) / (p1 + p2)) < 1e-9, `got ${st}`);
});

test("reports where traffic was being withdrawn or added do not count for Little's law", () => {
  const m = new DemandModel({ demandWindowMs: 1000, latencyTauMs: 10_000, minCompletions: 0 });
  const report = (issued: number, completed: number, inProgress: number): ClusterLoad => ({
    service: 's',
    intervalMs: 1000,
    localities: [{ node: 'n1', issued, succeeded: completed, errors: 0, inProgress }],
  });
  // 40 rps, 170 ms end to end, 150 of it on the wire: 20 ms at the node, 6.8 requests in progress.
  for (let t = 1; t <= 10; t++) m.observe('a', 'g1', [report(40, 40, 6.8)], t * 1000, () => 150);
  // The gateway moves its traffic away mid-interval: 20 issued, 26.8 completed (the in-flight drained), 0 in progress.
  m.observe('a', 'g1', [report(20, 26.8, 0)], 11_000, () => 150);
  const st = m.serviceTimeByNode('s').get('n1')!;
  assert.ok(Math.abs(st - 20) < 1e-6, `time at the node ${st} ms after a draining report, want 20`);
  assert.equal(steady(40, 20, 26.8), false);
  assert.equal(steady(40, 40, 20), false, 'traffic added');
  assert.equal(steady(40, 40, 43), true, 'in-flight noise is steady');
  assert.equal(steady(1, 0, 1), true, 'a trickle is steady');
  assert.equal(steady(0, 50, 48), false, 'the first report of a flow covers only part of its interval');
  assert.equal(steady(12, 50, 48), false, 'nor does the one after a partial one');
  // The traffic matrix still sees the drained completions.
  assert.ok(m.flows()[0]!.rps < 40);
});

test('a flow that starts mid-interval does not read as a slow node', () => {
  const m = new DemandModel({ demandWindowMs: 1000, latencyTauMs: 10_000, minCompletions: 0 });
  const report = (issued: number, inProgress: number): ClusterLoad => ({
    service: 's',
    intervalMs: 1000,
    localities: [{ node: 'n1', issued, succeeded: issued, errors: 0, inProgress }],
  });
  // 50 rps, 120 ms end to end, 100 of it on the wire: 20 ms at the node, 6 in progress. The first
  // report covers only the last 0.3 s: 15 completions with a full 6 in progress would read 300 ms.
  m.observe('a', 'g1', [report(15, 6)], 1000, () => 100);
  assert.equal(m.serviceTimeByNode('s').size, 0);
  for (let t = 2; t <= 6; t++) m.observe('a', 'g1', [report(50, 6)], t * 1000, () => 100);
  const st = m.serviceTimeByNode('s').get('n1')!;
  assert.ok(Math.abs(st - 20) < 1e-6, `time at the node ${st} ms, want 20`);
});

test('a step in the RTT does not bend the time at the node: each report subtracts the RTT of its time', () => {
  const m = new DemandModel({ demandWindowMs: 1000, latencyTauMs: 10_000, minCompletions: 0 });
  // 20 ms at the node throughout; the link is 50 ms for 10 reports, then 150 ms.
  let rttNow = 50;
  for (let t = 1; t <= 20; t++) {
    if (t === 11) rttNow = 150;
    m.observe('a', 'g1', [load(40, 1000, 'n1', (40 * (rttNow + 20)) / 1000)], t * 1000, () => rttNow);
  }
  const st = m.serviceTimeByNode('s').get('n1')!;
  assert.ok(Math.abs(st - 20) < 1e-6, `time at the node ${st} ms, want 20`);
  // Subtracting today's RTT from the smoothed response time (≈ 133 ms, still half-way between 70 and
  // 170) would leave nothing for the node: it would look far faster than it is for a whole window.
  const response = m.responseTimeByNode('s').get('n1')![0]!.responseMs;
  assert.ok(response - rttNow < 0, `smoothed response ${response} ms minus the new RTT is negative`);
});

test('demand follows a real step up or down within one report; response times wait for enough completions', () => {
  const m = new DemandModel({ demandWindowMs: 30_000, minCompletions: 50 });
  m.observe('a', 'g1', [load(10, 1000, 'n1', 5)], 1000);
  assert.equal(m.responseTimeByNode('s').size, 0, '10 completions: not yet');
  m.observe('a', 'g1', [load(100, 1000, 'n1', 5)], 2000);
  assert.equal(m.demandByGateway('s').get('g1'), 100, 'rose within one report');
  m.observe('a', 'g1', [load(10, 1000, 'n1', 5)], 3000);
  assert.equal(m.demandByGateway('s').get('g1'), 10, 'fell within one report');
  assert.equal(m.responseTimeByNode('s').size, 0, 'no steady report yet: the rate jumped every time');
  m.observe('a', 'g1', [load(10, 1000, 'n1', 5)], 4000);
  assert.equal(m.responseTimeByNode('s').get('n1')?.length, 1, '130 completions and a steady report: used');
});

test('observed service time is blended with the configured default until enough requests were seen', async () => {
  const { shrinkTowardPrior } = await import('./server.js');
  assert.equal(shrinkTowardPrior(60, 0, 20, 200), 20, 'nothing seen: the default');
  assert.equal(shrinkTowardPrior(60, 200, 20, 200), 40, 'as many as the prior: halfway');
  assert.ok(Math.abs(shrinkTowardPrior(60, 20_000, 20, 200) - 60) < 0.5, 'many: the observation');
  assert.equal(shrinkTowardPrior(60, 50, 20, 0), 60, 'no prior: the observation');
});

test('inflow from other gateways: what each node was sent by gateways elsewhere in their last report, unsmoothed', () => {
  const m = new DemandModel({ demandWindowMs: 30_000 });
  const spill = (local: number, away: number): ClusterLoad => ({
    service: 's',
    intervalMs: 500,
    localities: [
      { node: 'edge-1', issued: local, succeeded: local, errors: 0, inProgress: 0 },
      { node: 'edge-2', issued: away, succeeded: away, errors: 0, inProgress: 0 },
    ],
  });
  m.observe('gw1', 'edge-1', [spill(8, 0)], 500);
  m.observe('gw2', 'edge-2', [load(7, 500, 'edge-2')], 500);
  assert.equal(m.inflowFromOtherGateways('s').size, 0, "a gateway's own node is not inflow");
  m.observe('gw1', 'edge-1', [spill(18, 7)], 1000);
  assert.deepEqual(Object.fromEntries(m.inflowFromOtherGateways('s')), { 'edge-2': 14 });
  m.observe('gw1', 'edge-1', [load(9, 500, 'edge-1')], 1500);
  assert.equal(m.inflowFromOtherGateways('s').size, 0, 'a locality missing from the last report sent nothing');
});
