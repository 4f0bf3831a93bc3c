import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoVerdicts } from './demo-verdicts.js';
import type { DemoResults, EventsResult } from './experiment.js';
import { faastScenario } from './scenario.js';
import { aggregateSeeds, compareCells } from './seeds.js';
import { latencySummary } from './testing.js';

const summary = (meanMs: number) => latencySummary(meanMs);

function events(nearBestMs: Record<string, number>, distance: Record<string, number>): EventsResult {
  return {
    policy: 'proxima',
    users: 10,
    bucketMs: 250,
    marks: [],
    timeline: [],
    edge1Timeline: [],
    controlPlane: [],
    measures: {
      podLossFailuresStopMs: 500,
      podLossFailures: 2,
      restartFailures: 0,
      delayStepFirstMoveMs: 900,
      delayStepSettleMs: 1000,
      delayStepShift: 0.9,
      probeIntervalMs: 1000,
      delayStepNearBestMs: nearBestMs,
      delayStepBestDistance: distance,
      delayStepTolerancePoints: 5,
    },
  };
}

function run(seed: number, o: { within?: number[]; events?: EventsResult; means?: [number, number] }): DemoResults {
  const [px, fa] = o.means ?? [40, 60];
  return {
    scenario: { ...faastScenario('full', seed), users: [25, 45], policies: ['proxima', 'faast'] },
    comparison: [
      {
        policy: 'proxima',
        levels: [25, 45].map((users, i) => ({
          users,
          summary: summary(px + seed),
          quantilesMs: [],
          serviceTime: { tolerance: 0.1, byNode: {}, modelWithinShare: o.within?.[i] ?? 1, rawWithinShare: 1, samples: 30 },
        })),
      },
      { policy: 'faast', levels: [25, 45].map((users) => ({ users, summary: summary(fa + seed), quantilesMs: [] })) },
    ],
    ...(o.events ? { events: o.events } : {}),
  };
}

const verdictsOf = (runs: DemoResults[]) => {
  const cells = aggregateSeeds(runs.map((r) => ({ seed: r.scenario.seed, comparison: r.comparison })));
  return demoVerdicts(runs, cells, compareCells(cells));
};
const find = (runs: DemoResults[], start: string) => verdictsOf(runs).find((v) => v.check.startsWith(start))!;

test('demo verdicts: the delay step fails when any gateway on any seed is not near its best within 2 probe intervals and staying', () => {
  const good = events({ 'edge-1': 990, 'edge-2': 1900 }, { 'edge-1': 0, 'edge-2': 3 });
  const ok = find([run(1, { events: good }), run(2, { events: good })], 'delay step');
  assert.equal(ok.pass, true, ok.detail);
  // edge-2 on seed 2 ends 10 points off (never near best): the whole verdict fails and says where.
  const edge2Off = events({ 'edge-1': 990, 'edge-2': NaN }, { 'edge-1': 0, 'edge-2': 10 });
  const bad = find([run(1, { events: good }), run(2, { events: edge2Off })], 'delay step');
  assert.equal(bad.pass, false);
  assert.match(bad.detail, /missed: seed 2 edge-2/);
  assert.match(bad.detail, /edge-2 never near best, ends 10 points off/);
  // Near best but only after 3 s (> 2 intervals + one 250 ms sample): fails too.
  const slow = find([run(1, { events: events({ 'edge-1': 990, 'edge-2': 3000 }, { 'edge-1': 0, 'edge-2': 2 }) })], 'delay step');
  assert.equal(slow.pass, false);
  // A seed without the events run is not a pass.
  assert.equal(find([run(1, { events: good }), run(2, {})], 'delay step').pass, false);
});

test('demo verdicts: the service-time target holds on every seed and level; comparisons are decided on intervals', () => {
  assert.equal(find([run(1, {}), run(2, {})], 'proxima: the per-node service time').pass, true);
  const one = find([run(1, {}), run(2, { within: [1, 0.85] })], 'proxima: the per-node service time');
  assert.equal(one.pass, false);
  assert.match(one.detail, /below target: seed 2 at 45 users/);
  // proxima 41/42 vs faast 61/62 ms over two seeds: intervals apart, "proxima beats faast".
  const vs = find([run(1, {}), run(2, {})], 'proxima vs faast');
  assert.equal(vs.pass, true);
  assert.match(vs.detail, /25 users: mean proxima beats faast/);
  // One seed: no interval, so "no difference shown", and it is not a failure of proxima.
  assert.match(find([run(1, {})], 'proxima vs faast').detail, /mean no difference shown/);
});

test('demo verdicts: per-request picking passes only with mean and p95 no worse everywhere, a p99 interval below at the highest level and >= 99 % local on every seed at the lowest', () => {
  // Local share from the traffic matrix (the summary's share is rounded to 1 %).
  const local = (share: number) => ({ 'edge-1': { 'edge-1': Math.round(1000 * share), 'edge-2': 1000 - Math.round(1000 * share) } });
  const extRun = (seed: number, o: { lowLocal: number; topP99: number }): DemoResults => ({
    scenario: { ...faastScenario('full', seed), users: [5, 50], policies: ['proxima', 'proxima+extproc'] },
    comparison: [
      { policy: 'proxima', levels: [5, 50].map((users) => ({ users, summary: summary(users === 5 ? 25 : 90 + seed), quantilesMs: [] })) },
      {
        policy: 'proxima+extproc',
        levels: [
          { users: 5, summary: latencySummary(25, local(o.lowLocal)), quantilesMs: [] },
          { users: 50, summary: { ...summary(90 + seed), p99Ms: o.topP99 + seed }, quantilesMs: [] },
        ],
      },
    ],
  });
  const verdict = (runs: DemoResults[]) => find(runs, 'proxima+extproc vs proxima');
  // proxima's p99 at 50 users is 3 × (90 + seed) = 273–279 ms.
  const good = verdict([1, 2, 3].map((s) => extRun(s, { lowLocal: 0.995, topP99: 180 })));
  assert.equal(good.pass, true, good.detail);
  assert.match(good.detail, /seed 2 99\.50 %/);
  const oneSeedAway = verdict([1, 2, 3].map((s) => extRun(s, { lowLocal: s === 3 ? 0.984 : 0.995, topP99: 180 })));
  assert.equal(oneSeedAway.pass, false);
  assert.match(oneSeedAway.detail, /below 99 %: seed 3/);
  const tailNotShown = verdict([1, 2, 3].map((s) => extRun(s, { lowLocal: 0.995, topP99: 275 })));
  assert.equal(tailNotShown.pass, false);
  assert.match(tailNotShown.detail, /no difference shown/);
});
