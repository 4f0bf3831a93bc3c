import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faastPolicy } from './faast.js';
import { describe, makeInput } from './testing.js';

test('faast: w_ij = (1/r_ij)/Σ(1/r_ik), r = RTT + P, all in priority 0', () => {
  const cases: Array<{ name: string; rtt: Record<string, number>; p: Record<string, number>; want: string[] }> = [
    // FaaSt's low-load example: r_local = 10, r_far = 60 → 1/10 : 1/60 = 6 : 1 → 857 / 143 (14 % far).
    { name: 'low-load example', rtt: { 'e1>cloud': 50 }, p: { e1: 9.8, cloud: 10 }, want: ['e1:857@0', 'cloud:143@0'] },
    // r = 20.2, 40, 110 → inverses 0.0495, 0.0250, 0.00909 → 59.2 %, 29.9 %, 10.9 %.
    {
      name: 'three nodes',
      rtt: { 'e1>e2': 20, 'e1>cloud': 100 },
      p: { e1: 20, e2: 20, cloud: 10 },
      want: ['e1:592@0', 'e2:299@0', 'cloud:109@0'],
    },
  ];
  for (const c of cases) {
    const backends: Record<string, [number, number]> = {};
    for (const n of Object.keys(c.p)) backends[n] = [1, 4];
    const out = faastPolicy.assign(makeInput({ gateways: ['e1'], backends, rtt: c.rtt, serviceTimeMs: c.p }));
    assert.deepEqual(describe(out.get('e1')), c.want, c.name);
  }
});

test('faast: nodes without ready pods get nothing; unreachable nodes are left out', () => {
  const input = makeInput({ gateways: ['e1', 'e2'], backends: { e2: [1, 4], cloud: [0, 0] }, rtt: { 'e1>e2': 20 } });
  assert.deepEqual(describe(faastPolicy.assign(input).get('e1')), ['e2:1000@0']);
  const cut = makeInput({ gateways: ['e1'], backends: { e2: [1, 4], cloud: [2, 8] }, unreachable: ['e1>e2'] });
  assert.deepEqual(describe(faastPolicy.assign(cut).get('e1')), ['cloud:1000@0']);
  const none = makeInput({ gateways: ['e1'], backends: { e2: [1, 4] }, unreachable: ['e1>e2'] });
  assert.deepEqual(faastPolicy.assign(none).get('e1')?.localities, []);
});

test("faast: P_j is FaaSt's own input (the pods' 10 s request latency) where measured, the service-time estimate elsewhere", () => {
  const base = makeInput({
    gateways: ['e1'],
    backends: { e1: [1, 4], cloud: [1, 4] },
    rtt: { 'e1>cloud': 50 },
    serviceTimeMs: { e1: 10, cloud: 10 },
  });
  // e1's pods measured 40 ms with their queue (r = 40.2 ms); cloud has no measurement (r = 50 + 10 = 60 ms).
  const input = { ...base, faastLatencyMs: (n: string) => (n === 'e1' ? 40 : undefined) };
  const w = 1 / (base.rttMs('e1', 'e1') + 40);
  const share = w / (w + 1 / 60);
  const out = describe(faastPolicy.assign(input).get('e1'));
  assert.deepEqual(out, [`e1:${Math.round(share * 1000)}@0`, `cloud:${Math.round((1 - share) * 1000)}@0`]);
});

test('faast: r = 0 (a local node whose pods completed nothing in the window: P_j = 0) weighs as 0.1 ms, as FaaSt does', () => {
  const base = makeInput({ gateways: ['e1'], backends: { e1: [1, 4], cloud: [1, 4] }, rtt: { 'e1>cloud': 50 } });
  const input = { ...base, rttMs: (a: string, b: string) => (a === b ? 0 : 50), faastLatencyMs: (n: string) => (n === 'e1' ? 0 : 10) };
  const share = 1 / 0.1 / (1 / 0.1 + 1 / 60);
  assert.deepEqual(describe(faastPolicy.assign(input).get('e1')), [
    `e1:${Math.round(share * 1000)}@0`,
    `cloud:${Math.round((1 - share) * 1000)}@0`,
  ]);
});
