import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectedResponseMs, sharesOf } from './oracle.js';
import { createOraclePolicy } from './oracle.js';
import { createProximaPolicy, proximaPolicy } from './proxima.js';
import { meanWaitMs } from './queueing.js';
import type { InputSpec } from './testing.js';
import { describe, makeInput } from './testing.js';
import type { GatewayAssignment } from './types.js';
import { reasonText } from './reason.js';

// Three edge nodes with one pod of concurrency 4 and a cloud node with 4 such pods; 15 ms service
// time → an edge node saturates at 266.7 rps, plans at most 213.3 rps (80 %).
const edge: InputSpec = {
  gateways: ['e1', 'e2', 'e3', 'cloud'],
  backends: { e1: [1, 4], e2: [1, 4], e3: [1, 4], cloud: [4, 16] },
  rtt: { 'e1>e2': 20, 'e1>e3': 20, 'e2>e3': 20, 'e1>cloud': 50, 'e2>cloud': 50, 'e3>cloud': 50 },
  serviceTimeMs: 15,
};
const EDGE_PLAN_RPS = (0.8 * (4 * 1000)) / 15;

function shareOf(a: GatewayAssignment | undefined, node: string): number {
  const p0 = (a?.localities ?? []).filter((l) => l.priority === 0);
  const sum = p0.reduce((s, l) => s + l.weight, 0);
  return (p0.find((l) => l.node === node)?.weight ?? 0) / sum;
}

test('proxima: low load and unknown demand stay 100 % local; no local pod → nearest', () => {
  for (const demandRps of [{ e1: 10, e2: 10, e3: 10 }, {}] as Record<string, number>[]) {
    const out = proximaPolicy.assign(makeInput({ ...edge, demandRps }));
    assert.deepEqual(describe(out.get('e1')), ['e1:1000@0', 'e2:1@1', 'e3:1@1', 'cloud:4@2']);
    assert.deepEqual(describe(out.get('e3')), ['e3:1000@0', 'e1:1@1', 'e2:1@1', 'cloud:4@2']);
  }
  const noLocal = makeInput({ ...edge, gateways: ['e4'], rtt: { ...edge.rtt, 'e4>e2': 10, 'e4>e1': 30 }, demandRps: { e4: 5 } });
  assert.deepEqual(describe(proximaPolicy.assign(noLocal).get('e4')), ['e2:1000@0', 'e1:1@1', 'cloud:4@2', 'e3:1@2']);
  const noLocalNoDemand = makeInput({ ...edge, gateways: ['e4'], rtt: { ...edge.rtt, 'e4>e2': 10, 'e4>e1': 30 } });
  assert.deepEqual(describe(proximaPolicy.assign(noLocalNoDemand).get('e4'))[0], 'e2:1000@0');
});

test('proxima: spill-over goes to the nearest node with room, never past the target utilisation', () => {
  const demand = { e1: 400, e2: 10, e3: 10, cloud: 0 };
  const out = proximaPolicy.assign(makeInput({ ...edge, demandRps: demand }));
  const local = shareOf(out.get('e1'), 'e1');
  assert.ok(local > 0.4 && local <= EDGE_PLAN_RPS / 400 + 0.002, `local share ${local}`);
  assert.ok(shareOf(out.get('e1'), 'e2') > 0.15 && shareOf(out.get('e1'), 'e3') > 0.15, describe(out.get('e1')).join(' '));
  assert.equal(shareOf(out.get('e1'), 'cloud'), 0, 'edge neighbours have room: no cloud');
  // e2 and e3 keep their own traffic local.
  assert.equal(shareOf(out.get('e2'), 'e2'), 1);
  // Planned load per node never exceeds the target.
  for (const node of ['e1', 'e2', 'e3']) {
    const planned = Object.entries(demand).reduce((s, [g, d]) => s + d * shareOf(out.get(g), node), 0);
    assert.ok(planned <= EDGE_PLAN_RPS * 1.01, `${node} planned ${planned.toFixed(1)} rps`);
  }
});

test('proxima: capacity — heavier local demand than the edge can take reaches the cloud', () => {
  const out = proximaPolicy.assign(makeInput({ ...edge, demandRps: { e1: 300, e2: 250, e3: 250 } }));
  for (const g of ['e1', 'e2', 'e3']) assert.ok(shareOf(out.get(g), 'cloud') > 0, `${g}: ${describe(out.get(g)).join(' ')}`);
});

test('proxima: unreachable nodes never get priority 0', () => {
  const out = proximaPolicy.assign(makeInput({ ...edge, demandRps: { e1: 600 }, unreachable: ['e1>cloud', 'e1>e2'] }));
  const p0 = out
    .get('e1')!
    .localities.filter((l) => l.priority === 0)
    .map((l) => l.node);
  assert.deepEqual(p0.sort(), ['e1', 'e3']);
  const cut = proximaPolicy.assign(makeInput({ ...edge, gateways: ['e4'], unreachable: ['e4>e1', 'e4>e2', 'e4>e3', 'e4>cloud'] }));
  assert.deepEqual(cut.get('e4')!.localities, []);
});

test('proxima: overload spreads in proportion to capacity and says so', () => {
  const out = proximaPolicy.assign(makeInput({ ...edge, demandRps: { e1: 3000 } }));
  const a = out.get('e1')!;
  assert.match(reasonText(a.reason), /OVERLOADED/);
  // Cloud has 4× an edge node's capacity.
  const ratio = shareOf(a, 'cloud') / shareOf(a, 'e2');
  assert.ok(ratio > 3 && ratio < 5, `cloud/e2 ratio ${ratio}`);
});

test('proxima: hysteresis keeps an assignment when every share moved < 5 points, follows bigger moves', () => {
  const first = proximaPolicy.assign(makeInput({ ...edge, demandRps: { e1: 300 } }));
  const nudged = proximaPolicy.assign(makeInput({ ...edge, demandRps: { e1: 310 }, previous: first }));
  assert.deepEqual(describe(nudged.get('e1')), describe(first.get('e1')));
  assert.match(reasonText(nudged.get('e1')!.reason), /^kept/);
  const fresh = proximaPolicy.assign(makeInput({ ...edge, demandRps: { e1: 310 } }));
  assert.notDeepEqual(describe(fresh.get('e1')), describe(first.get('e1')), 'the nudge does change the unsmoothed answer');
  const moved = proximaPolicy.assign(makeInput({ ...edge, demandRps: { e1: 500 }, previous: first }));
  assert.deepEqual(describe(moved.get('e1')), describe(proximaPolicy.assign(makeInput({ ...edge, demandRps: { e1: 500 } })).get('e1')));
});

test('proxima: step changes settle on the new best assignment at the next recompute', () => {
  // e4 has no pod; the cloud is 5 ms away, e2 20 ms.
  const base: InputSpec = {
    ...edge,
    gateways: ['e4'],
    rtt: { ...edge.rtt, 'e4>cloud': 5, 'e4>e2': 20, 'e4>e1': 40, 'e4>e3': 40 },
    demandRps: { e4: 50 },
  };
  const before = proximaPolicy.assign(makeInput(base));
  assert.equal(describe(before.get('e4'))[0], 'cloud:1000@0');
  const slowCloud = { ...base, rtt: { ...base.rtt, 'e4>cloud': 100 } };
  const after = proximaPolicy.assign(makeInput({ ...slowCloud, previous: before }));
  assert.deepEqual(describe(after.get('e4')), describe(proximaPolicy.assign(makeInput(slowCloud)).get('e4')));
  assert.equal(describe(after.get('e4'))[0], 'e2:1000@0');
  // A node losing its pods leaves priority 0 at once, even when the rest would be within hysteresis.
  const local = proximaPolicy.assign(makeInput({ ...edge, demandRps: { e1: 20 } }));
  const { e1: _gone, ...rest } = edge.backends;
  const lost = proximaPolicy.assign(makeInput({ ...edge, backends: rest, demandRps: { e1: 20 }, previous: local }));
  // To the two nodes 20 ms away (equally near: the solve may split between them), not to e1.
  const p0 = describe(lost.get('e1')).filter((l) => l.endsWith('@0'));
  assert.ok(p0.length > 0 && p0.every((l) => /^e[23]:/.test(l)), p0.join(' '));
});

test('proxima: within a few percent of the exact optimum on small cases (true inputs)', () => {
  const cases: InputSpec[] = [
    { ...edge, demandRps: { e1: 50, e2: 50, e3: 50 } },
    { ...edge, demandRps: { e1: 250, e2: 150, e3: 100 } },
    { ...edge, demandRps: { e1: 400, e2: 10, e3: 10 } },
    { ...edge, demandRps: { e1: 300, e2: 300, e3: 300 } },
    {
      gateways: ['a', 'b'],
      backends: { a: [1, 2], cloud: [2, 4] },
      rtt: { 'a>b': 15, 'a>cloud': 30, 'b>cloud': 50 },
      serviceTimeMs: 20,
      demandRps: { a: 60, b: 50 },
    },
  ];
  const cv2 = 1;
  const proxima = createProximaPolicy({ serviceCv2: cv2, hysteresisShare: 0 });
  const oracle = createOraclePolicy({ serviceCv2: cv2 });
  for (const spec of cases) {
    const input = makeInput(spec);
    const p = expectedResponseMs(input, sharesOf(proxima.assign(input)), cv2);
    const o = expectedResponseMs(input, sharesOf(oracle.assign(input)), cv2);
    assert.ok(o <= p * 1.001, `oracle ${o} must not lose to proxima ${p}`);
    assert.ok(p <= o * 1.05, `proxima ${p.toFixed(2)} ms vs optimum ${o.toFixed(2)} ms for ${JSON.stringify(spec.demandRps)}`);
  }
});

test('proxima: an observed latency with its load is read as service + queueing, not as service time', () => {
  // e1 observed 40 ms while serving 180 rps: mostly queueing, so the pod is faster than 40 ms and
  // e1 keeps more of its own traffic than when 40 ms is taken as the pure service time.
  const spec: InputSpec = { ...edge, demandRps: { e1: 180 }, serviceTimeMs: { e1: 40, e2: 15, e3: 15, cloud: 15 } };
  const perNode = createProximaPolicy({ poolServiceTime: false });
  const naive = shareOf(perNode.assign(makeInput(spec)).get('e1'), 'e1');
  const informed = shareOf(perNode.assign(makeInput({ ...spec, serviceLoadRps: { e1: 180 } })).get('e1'), 'e1');
  assert.ok(informed > naive + 0.1, `informed ${informed} vs naive ${naive}`);
});

test('proxima: noisy per-node service-time estimates at low load do not pull traffic off a local pod', () => {
  // Same pods everywhere; gateway reports make e1 look 3× slower than e2 (20 ms apart). Pooled, both
  // gateways stay local; trusting each node's estimate sends e1's traffic to e2.
  const spec: InputSpec = {
    ...edge,
    demandRps: { e1: 30, e2: 20 },
    serviceTimeMs: { e1: 45, e2: 15, e3: 20, cloud: 20 },
    serviceLoadRps: { e1: 30, e2: 20 },
  };
  assert.equal(shareOf(proximaPolicy.assign(makeInput(spec)).get('e1'), 'e1'), 1);
  assert.equal(shareOf(proximaPolicy.assign(makeInput(spec)).get('e2'), 'e2'), 1);
  assert.ok(shareOf(createProximaPolicy({ poolServiceTime: false }).assign(makeInput(spec)).get('e1'), 'e1') < 1);
});

test('proxima: contract invariants on random inputs, and bad numbers never crash', () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const bad = [NaN, -5, Infinity, 0];
  for (let k = 0; k < 200; k++) {
    const names = ['a', 'b', 'c', 'd', 'e'].slice(0, 2 + Math.floor(rand() * 4));
    const backends: Record<string, [number, number]> = {};
    for (const n of names) if (rand() < 0.7) backends[n] = [Math.floor(rand() * 3), rand() < 0.1 ? -1 : Math.floor(rand() * 12)];
    const rtt: Record<string, number> = {};
    for (const a of names)
      for (const b of names) if (a < b) rtt[`${a}>${b}`] = rand() < 0.05 ? bad[Math.floor(rand() * 4)]! : 1 + rand() * 120;
    const demandRps: Record<string, number> = {};
    for (const n of names) demandRps[n] = rand() < 0.05 ? bad[Math.floor(rand() * 4)]! : rand() * 400;
    const serviceTimeMs: Record<string, number> = {};
    for (const n of names) serviceTimeMs[n] = rand() < 0.05 ? bad[Math.floor(rand() * 4)]! : 2 + rand() * 30;
    const unreachable = names.filter((n) => n !== names[0] && rand() < 0.15).map((n) => `${names[0]}>${n}`);
    const spec: InputSpec = { gateways: names, backends, rtt, demandRps, serviceTimeMs, unreachable };
    const first = proximaPolicy.assign(makeInput(spec));
    const second = proximaPolicy.assign(makeInput({ ...spec, previous: first }));
    for (const out of [first, second]) {
      assert.deepEqual([...out.keys()].sort(), [...names].sort());
      for (const [g, a] of out) {
        const ctx = `case ${k} gateway ${g}: ${describe(a).join(' ')}`;
        let expect = 0;
        for (const l of a.localities) {
          assert.ok(Number.isInteger(l.weight) && l.weight >= 1, ctx);
          assert.ok(l.priority === expect || l.priority === expect + 1, ctx);
          expect = l.priority;
          assert.ok(l.node in backends && backends[l.node]![0] > 0, ctx);
        }
        if (a.localities.length) assert.equal(a.localities[0]!.priority, 0, ctx);
        for (const l of a.localities.filter((x) => x.priority === 0)) assert.ok(!unreachable.includes(`${g}>${l.node}`), ctx);
      }
    }
  }
});

test("proxima: the pods' app latency is the service time as measured, per node; their queue wait calibrates the model's variability", () => {
  // A pod that slows down under load shows in its own app latency: e1 22 ms, the others 15 ms. Not
  // pooled away, not de-queued (it already is a pure service time).
  const measured: InputSpec = { ...edge, demandRps: { e1: 150 }, serviceTimeMs: { e1: 22, e2: 15, e3: 15, cloud: 15 } };
  const view = proximaPolicy.modelView!(makeInput(measured));
  assert.deepEqual(Object.fromEntries(Object.entries(view).map(([n, v]) => [n, v.serviceTimeMs])), { cloud: 15, e1: 22, e2: 15, e3: 15 });
  assert.equal(view['e1']!.serviceCv2, 1, 'no queue wait reported: the assumed cv²');
  // e1 at 150 rps, 1 pod × 4 slots, 15 ms: the model with cv² = 1 predicts a wait W1; a measured wait
  // of 0.625 W1 means (1 + cv²)/2 = 0.625, i.e. cv² = 0.25 (lognormal cv 0.5, as the demo's pods).
  const w1 = meanWaitMs({ pods: 1, slotsPerPod: 4, serviceTimeMs: 15, serviceCv2: 1 }, 150);
  assert.ok(w1 > 1, `${w1}`);
  const calibrated = proximaPolicy.modelView!(
    makeInput({ ...edge, demandRps: { e1: 150 }, podQueueWait: { e1: { waitMs: 0.625 * w1, rps: 150 }, e2: { waitMs: 0, rps: 1 } } }),
  );
  assert.ok(Math.abs(calibrated['e1']!.serviceCv2 - 0.25) < 1e-9, `${calibrated['e1']!.serviceCv2}`);
  assert.equal(calibrated['cloud']!.serviceCv2, calibrated['e1']!.serviceCv2, 'one image: one variability for every node');
  assert.match(calibrated['e1']!.how, /measured by the pods.*calibrated/);
  // A queue still filling after a load change looks like burstiness: never above the assumed default.
  const transient = proximaPolicy.modelView!(makeInput({ ...edge, podQueueWait: { e1: { waitMs: 10 * w1, rps: 150 } } }));
  assert.equal(transient['e1']!.serviceCv2, 1);
  // Less variable service means less queueing, so e1 keeps more of its own demand.
  const demand = { e1: 250 };
  const keepsAssumed = shareOf(proximaPolicy.assign(makeInput({ ...edge, demandRps: demand })).get('e1'), 'e1');
  const keepsCalibrated = shareOf(
    proximaPolicy.assign(makeInput({ ...edge, demandRps: demand, podQueueWait: { e1: { waitMs: 0.5 * w1, rps: 150 } } })).get('e1'),
    'e1',
  );
  assert.ok(keepsCalibrated > keepsAssumed, `${keepsCalibrated} vs ${keepsAssumed}`);
});

test('proxima: the split is refined around the previous loads, and solved again when the optimum moved away from them', () => {
  // The demo's delay step (see shares.test.ts): g2 splits its own traffic between its busy pod and
  // the cloud; the refined optimum is the same whether the previous assignment was near it or not.
  const spec: InputSpec = {
    gateways: ['g1', 'g2'],
    backends: { g2: [1, 2], cloud: [4, 8] },
    rtt: { 'g1>g2': 20, 'cloud>g1': 150, 'cloud>g2': 100 },
    demandRps: { g1: 50, g2: 50 },
    serviceTimeMs: 20,
  };
  const policy = createProximaPolicy({ serviceCv2: 0.25, hysteresisCost: 0, hysteresisShare: 0 });
  const local = (t: ReadonlyMap<string, GatewayAssignment>) => 100 * (sharesOf(t).get('g2')!.get('g2') ?? 0);
  const fresh = policy.assign(makeInput(spec));
  const coarse = createProximaPolicy({ serviceCv2: 0.25, hysteresisCost: 0, hysteresisShare: 0, refineSegments: 1 }).assign(
    makeInput(spec),
  );
  // From where it was: one refined solve gives the same split (to the fine resolution, under a point).
  assert.ok(Math.abs(local(policy.assign(makeInput({ ...spec, previous: fresh }))) - local(fresh)) < 1);
  // From far away (everything local, or everything to the cloud): the second solve finds it too.
  const allLocal = policy.assign(makeInput({ ...spec, demandRps: { g1: 1, g2: 1 } }));
  const allCloud = policy.assign(makeInput({ ...spec, rtt: { ...spec.rtt, 'cloud>g2': 1 } }));
  assert.equal(local(allLocal), 100);
  assert.equal(local(allCloud), 0);
  for (const previous of [allLocal, allCloud])
    assert.ok(Math.abs(local(policy.assign(makeInput({ ...spec, previous }))) - local(fresh)) < 1, `from ${local(previous)} %`);
  // The coarse solve alone sits on a breakpoint several points away from the refined split.
  assert.ok(Math.abs(local(coarse) - local(fresh)) > 2, `coarse ${local(coarse).toFixed(1)} %, refined ${local(fresh).toFixed(1)} %`);
});

test('proxima: a previous split whose load sits on a breakpoint next to the optimum is solved again, not kept at the stretch end', () => {
  // The delay step of the demo: g1's traffic all on g2, g2 splitting its own between its pod and the
  // cloud. A previous split puts g2's load on a coarse breakpoint (70 rps at 40 % local: 0.8 × 100 ×
  // (1 − 0.25^1.5)); the stretch refined around it ends at the next breakpoint, short of the
  // optimum, and the solve used to stop there, 3 points off on a curve that flat.
  const spec: InputSpec = {
    gateways: ['g1', 'g2'],
    backends: { g2: [1, 2], cloud: [4, 8] },
    rtt: { 'g1>g2': 20, 'cloud>g1': 150, 'cloud>g2': 100 },
    demandRps: { g1: 50, g2: 50 },
    serviceTimeMs: 20,
  };
  const policy = createProximaPolicy({ serviceCv2: 0.25, hysteresisCost: 0, hysteresisShare: 0 });
  const local = (t: ReadonlyMap<string, GatewayAssignment>) => 100 * (sharesOf(t).get('g2')!.get('g2') ?? 0);
  const fresh = local(policy.assign(makeInput(spec)));
  const split = (g2Local: number): Map<string, GatewayAssignment> =>
    new Map([
      ['g1', { gateway: 'g1', service: 'default/fn', reason: 'test', localities: [{ node: 'g2', priority: 0, weight: 100 }] }],
      [
        'g2',
        {
          gateway: 'g2',
          service: 'default/fn',
          reason: 'test',
          localities: [
            { node: 'g2', priority: 0, weight: g2Local },
            { node: 'cloud', priority: 0, weight: 100 - g2Local },
          ].filter((l) => l.weight > 0),
        },
      ],
    ]);
  for (let g2Local = 0; g2Local <= 100; g2Local += 5) {
    const got = local(policy.assign(makeInput({ ...spec, previous: split(g2Local) })));
    assert.ok(Math.abs(got - fresh) < 1, `from ${g2Local} % local: ${got.toFixed(1)} %, fresh ${fresh.toFixed(1)} %`);
  }
});

test("proxima: a pod window that holds a load change does not recalibrate the variability; the last steady window's value is kept", () => {
  // The demo's delay step: g1's traffic all on g2's pod (50 + 26 requests/s planned there). Three
  // seconds later g2's 10 s window still averages the old and the new load (59 requests/s) while its
  // waits come mostly from the busier part: cv² from that window reads 1 (capped) against the pods'
  // 0.25, and the solve used to move g2's traffic to the cloud on it.
  const spec: InputSpec = {
    gateways: ['g1', 'g2'],
    backends: { g2: [1, 2], cloud: [4, 8] },
    rtt: { 'g1>g2': 20, 'cloud>g1': 150, 'cloud>g2': 100 },
    demandRps: { g1: 50, g2: 50 },
    serviceTimeMs: 20,
  };
  const settled = (g2Local: number): Map<string, GatewayAssignment> =>
    new Map([
      ['g1', { gateway: 'g1', service: 'default/fn', reason: 'test', localities: [{ node: 'g2', priority: 0, weight: 100 }] }],
      [
        'g2',
        {
          gateway: 'g2',
          service: 'default/fn',
          reason: 'test',
          localities: [
            { node: 'g2', priority: 0, weight: g2Local },
            { node: 'cloud', priority: 0, weight: 100 - g2Local },
          ],
        },
      ],
    ]);
  const previous = settled(52);
  const unit = (rps: number) => meanWaitMs({ pods: 1, slotsPerPod: 2, serviceTimeMs: 20, serviceCv2: 1 }, rps);
  const local = (t: ReadonlyMap<string, GatewayAssignment>) => 100 * (sharesOf(t).get('g2')!.get('g2') ?? 0);
  const fixed = local(
    createProximaPolicy({ serviceCv2: 0.25, hysteresisCost: 0, hysteresisShare: 0 }).assign(makeInput({ ...spec, previous })),
  );
  const policy = createProximaPolicy({ hysteresisCost: 0, hysteresisShare: 0 });
  // A steady window (76 requests/s, the planned load): cv² 0.25 from it.
  const steady = makeInput({ ...spec, previous, podQueueWait: { g2: { waitMs: 0.625 * unit(76), rps: 76 } } });
  assert.ok(Math.abs(local(policy.assign(steady)) - fixed) < 1);
  // The window in the middle of the change: the solve keeps 0.25, and the view says why.
  const moving = makeInput({ ...spec, previous, podQueueWait: { g2: { waitMs: 2 * unit(59), rps: 59 } } });
  const during = local(policy.assign(moving));
  assert.ok(Math.abs(during - fixed) < 1, `${during.toFixed(1)} % local, ${fixed.toFixed(1)} % with cv² 0.25`);
  const view = policy.modelView!(moving)['g2']!;
  assert.ok(Math.abs(view.serviceCv2 - 0.25) < 1e-9, `${view.serviceCv2}`);
  assert.match(view.how, /before their load changed \(the window now says 1\.00\)/);
  // What the window alone says, for comparison: several points more to the cloud.
  const unheld = local(createProximaPolicy({ hysteresisCost: 0, hysteresisShare: 0 }).assign(moving));
  assert.ok(fixed - unheld > 5, `${unheld.toFixed(1)} vs ${fixed.toFixed(1)}`);
  // Once the window matches the planned load again it calibrates again (here cv² 0.6).
  const later = makeInput({ ...spec, previous, podQueueWait: { g2: { waitMs: 0.8 * unit(76), rps: 76 } } });
  policy.assign(later);
  assert.ok(Math.abs(policy.modelView!(later)['g2']!.serviceCv2 - 0.6) < 1e-9);
});
