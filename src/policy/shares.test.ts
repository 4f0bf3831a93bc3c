import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeQueueModel } from './queueing.js';
import { meanSojournMs } from './queueing.js';
import { solveShares } from './shares.js';
import type { SolveOptions } from './shares.js';
import { makeInput } from './testing.js';
import type { PolicyInput } from './types.js';

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Random service: `G` gateways, backends on some of them plus a cloud, random RTTs, demand on a few. */
function randomCase(rand: () => number): { input: PolicyInput; options: SolveOptions } {
  const G = 4 + Math.floor(rand() * 8);
  const names = Array.from({ length: G }, (_, i) => `g${i}`);
  const backends: Record<string, [number, number]> = { cloud: [4, 16] };
  for (const n of names) if (rand() < 0.4) backends[n] = [1, 4];
  const rtt: Record<string, number> = {};
  for (const a of [...names, 'cloud']) for (const b of [...names, 'cloud']) if (a < b) rtt[`${a}>${b}`] = 2 + rand() * 80;
  const demandRps: Record<string, number> = {};
  for (const n of names) if (rand() < 0.4) demandRps[n] = rand() * 400;
  const input = makeInput({ gateways: names, backends, rtt, demandRps, serviceTimeMs: 15 });
  const models: NodeQueueModel[] = input.backends.map((b) => ({
    pods: b.readyEndpoints,
    slotsPerPod: b.capacity / b.readyEndpoints,
    serviceTimeMs: 15,
    serviceCv2: 1,
  }));
  const demand = input.gateways.map((g) => input.demandRps(g));
  return { input, options: { models, maxUtilisation: 0.8, segments: 12, spacingPower: 1.5, demandRps: demand } };
}

test('solveShares: an idle gateway goes where a sliver of demand would (the marginal cost), not just the nearest node', () => {
  const rand = lcg(5);
  let notNearest = 0;
  for (let k = 0; k < 150; k++) {
    const { input, options } = randomCase(rand);
    const total = options.demandRps.reduce((a, b) => a + b, 0);
    if (total === 0) continue;
    const solved = solveShares(input, options);
    // Reference: every idle gateway carries a sliver and goes through the full solver.
    const reference = solveShares(input, { ...options, demandRps: options.demandRps.map((d) => (d > 0 ? d : total * 1e-7)) });
    input.gateways.forEach((g, gi) => {
      if (options.demandRps[gi]! > 0) return;
      const got = [...solved.sharesOf(g)!];
      assert.equal(got.length, 1, `case ${k} ${g}: one node`);
      const want = [...reference.sharesOf(g)!].sort((a, b) => b[1] - a[1])[0]![0];
      assert.equal(got[0]![0], want, `case ${k} ${g}`);
      const nearest = input.backends.map((b) => b.node).sort((a, b) => input.rttMs(g, a) - input.rttMs(g, b))[0];
      if (want !== nearest) notNearest++;
    });
    // Idle gateways carry no load: node loads match the reference up to the slivers.
    for (const [n, rps] of solved.nodeRps) assert.ok(Math.abs(rps - reference.nodeRps.get(n)!) <= total * 1e-5, `case ${k} ${n}`);
  }
  assert.ok(notNearest > 5, `marginal cost mattered in ${notNearest} idle routes`);
});

test('solveShares: gateways with identical latency rows share one commodity with the same optimum', () => {
  // a1..a3 sit in one site without a pod (identical rows); b1 and the cloud hold the pods.
  const sites = {
    'a1>a2': 2,
    'a1>a3': 2,
    'a2>a3': 2,
    'a1>b1': 20,
    'a2>b1': 20,
    'a3>b1': 20,
    'a1>cloud': 40,
    'a2>cloud': 40,
    'a3>cloud': 40,
    'b1>cloud': 40,
  };
  const base = {
    gateways: ['a1', 'a2', 'a3', 'b1'],
    backends: { b1: [1, 4], cloud: [4, 16] } as Record<string, [number, number]>,
    rtt: sites,
    serviceTimeMs: 15,
  };
  const models = (input: PolicyInput): NodeQueueModel[] =>
    input.backends.map((b) => ({ pods: b.readyEndpoints, slotsPerPod: 4, serviceTimeMs: 15, serviceCv2: 1 }));
  const spread = makeInput({ ...base, demandRps: { a1: 100, a2: 60, a3: 40, b1: 50 } });
  const one = makeInput({ ...base, demandRps: { a1: 200, b1: 50 } });
  const solve = (input: PolicyInput) =>
    solveShares(input, {
      models: models(input),
      maxUtilisation: 0.8,
      segments: 12,
      spacingPower: 1.5,
      demandRps: input.gateways.map((g) => input.demandRps(g)),
    });
  const a = solve(spread);
  const b = solve(one);
  assert.ok((a.sharesOf('a1')!.get('cloud') ?? 0) > 0.1, 'the site spills to the cloud');
  for (const g of ['a1', 'a2', 'a3']) assert.deepEqual(a.sharesOf(g), a.sharesOf('a1'));
  assert.deepEqual(a.sharesOf('a1'), b.sharesOf('a1'));
  for (const [n, rps] of a.nodeRps) assert.ok(Math.abs(rps - b.nodeRps.get(n)!) < 1e-6, n);
});

test('solveShares: refined around the first solution, the optimum lies inside a segment, not on a breakpoint', () => {
  // The demo's delay step: g1 has no pod (20 ms to g2, 150 ms to the cloud), g2 one pod of two slots
  // (100 ms to the cloud), 50 requests/s each; g1's traffic fills g2's pod, g2 decides how much of
  // its own to spill. The mean response time is flat there, so the split is steep in the inputs.
  const input = makeInput({
    gateways: ['g1', 'g2'],
    backends: { g2: [1, 2], cloud: [4, 8] },
    rtt: { 'g1>g2': 20, 'cloud>g1': 150, 'cloud>g2': 100 },
    demandRps: { g1: 50, g2: 50 },
    serviceTimeMs: 20,
  });
  const index = new Map(input.backends.map((b, i) => [b.node, i] as const));
  const split = (serviceTimeMs: number, refine: boolean): number => {
    const models: NodeQueueModel[] = input.backends.map((b) => ({
      pods: b.readyEndpoints,
      slotsPerPod: b.capacity / b.readyEndpoints,
      serviceTimeMs,
      serviceCv2: 0.25,
    }));
    const options: SolveOptions = { models, maxUtilisation: 0.8, segments: 12, spacingPower: 1.5, demandRps: [50, 50] };
    const coarse = solveShares(input, options);
    const solved = refine
      ? solveShares(input, { ...options, refineAroundRps: input.backends.map((b) => coarse.nodeRps.get(b.node)!), refineSegments: 8 })
      : coarse;
    assert.equal(solved.sharesOf('g1').get('g2'), 1, 'g1 all to g2');
    return 100 * (solved.sharesOf('g2').get('g2') ?? 0);
  };
  // The exact optimum by a fine search over g2's local share x (g1's 50 requests/s at g2 as well).
  const exact = (serviceTimeMs: number): number => {
    const m = (i: number): NodeQueueModel => ({ pods: input.backends[i]!.readyEndpoints, slotsPerPod: 2, serviceTimeMs, serviceCv2: 0.25 });
    let best = { x: 0, cost: Infinity };
    for (let x = 0; x <= 0.6; x += 0.001) {
      const atG2 = 50 + 50 * x;
      const cost =
        atG2 * meanSojournMs(m(index.get('g2')!), atG2) +
        50 * 20 +
        50 * (1 - x) * (100 + meanSojournMs(m(index.get('cloud')!), 50 * (1 - x)));
      if (cost < best.cost) best = { x, cost };
    }
    return 100 * best.x;
  };
  let coarseJump = 0;
  let refinedJump = 0;
  for (let st = 19.6; st <= 20.4 + 1e-9; st += 0.1) {
    const refined = split(st, true);
    assert.ok(
      Math.abs(refined - exact(st)) < 1.5,
      `service ${st.toFixed(1)} ms: refined ${refined.toFixed(1)} %, exact ${exact(st).toFixed(1)} %`,
    );
    coarseJump = Math.max(coarseJump, Math.abs(split(st, false) - split(st + 0.1, false)));
    refinedJump = Math.max(refinedJump, Math.abs(refined - split(st + 0.1, true)));
  }
  assert.ok(coarseJump > 5, `the breakpoints alone jump ${coarseJump.toFixed(1)} points for 0.1 ms`);
  assert.ok(refinedJump < 2.5, `refined, 0.1 ms moves the split ${refinedJump.toFixed(1)} points at most`);
});
