/**
 * The ext_proc picking rule against the EDS weights it could simply follow, in the simulator (the
 * demo's FaaSt scenario, seeds 1-5, each level after a warm-up as long as the demo's): the demo's
 * Must-show on the rule alone, without the per-request round trip and the busy cores the live demo
 * adds. Mean, p95 and p99 no worse than the weights' at every level (95 % intervals over the seeds
 * overlap or are lower), the mean p99 over the seeds lower at the highest level, ≥ 99 % local at the
 * lowest. Not shown here: a p99 at the highest level whose interval clears the weights' — the
 * weights' p99 there swings from seed to seed, so the intervals overlap although ext_proc's mean
 * p99 is lower. Then the same with every response 30 ms late: the picker's slots are then held
 * longer than the requests spend at the pods (its in-flight counts over-count what is at a pod),
 * as the stream ends arrive late on busy cores; the extra hold it learns corrects for that. Last,
 * a tenth of the decisions too late (the gateway follows the EDS weights): counted where the weights
 * send them (as ExtProcServer does) against unseen. And with the release path stalling now and then
 * (a busy gateway or server reads the stream ends late, all at once): its counts then hold slots the
 * pods have long answered. Bounded by what the recent picks can fill (LoadTracker.atPod), the picker
 * stays ≥ 99 % local at 5 users and stable at 25 and 50. (Unbounded, about 96 % local at 5 users.
 * Counting each slot only for its expected stay at the pod instead keeps 5 users local too, but a
 * queue the expected stays miss then grows unseen: in this scenario it ran away at 50 users even
 * without stalls; letting only overdue slots lapse after two expected stays ran away at 25 users
 * under stalls on one seed. The stability assertion guards against that.)
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { faastScenario } from '../src/emulator/scenario.js';
import { compareExtProcInSim } from '../src/sim/extproc-compare.js';
import { compareIntervals, formatInterval } from '../src/util/interval.js';

const USERS = [5, 25, 50];
const SEEDS = [1, 2, 3, 4, 5];

function check(t: TestContext, overheadMs: number): void {
  const levels = compareExtProcInSim(
    (seed) => ({ ...faastScenario('full', seed), warmupMs: 30_000, measureMs: 30_000 }),
    USERS,
    SEEDS,
    overheadMs,
  );
  for (const l of levels) {
    const row = (k: 'meanMs' | 'p95Ms' | 'p99Ms') => `${k} ${formatInterval(l.eds[k])} vs ${formatInterval(l.extproc[k])}`;
    t.diagnostic(
      `${l.users} users (EDS vs ext_proc): ${row('meanMs')}, ${row('p95Ms')}, ${row('p99Ms')}, local ${formatInterval(l.eds.localShare, 3)} vs ${formatInterval(l.extproc.localShare, 3)}`,
    );
    for (const k of ['meanMs', 'p95Ms', 'p99Ms'] as const)
      assert.notEqual(
        compareIntervals(l.extproc[k], l.eds[k]),
        'higher',
        `${l.users} users ${k}: ${formatInterval(l.extproc[k])} vs ${formatInterval(l.eds[k])}`,
      );
  }
  const top = levels.at(-1)!;
  assert.ok(
    top.extproc.p99Ms.mean < top.eds.p99Ms.mean,
    `p99 at ${top.users} users: ${formatInterval(top.extproc.p99Ms)} vs ${formatInterval(top.eds.p99Ms)}`,
  );
  assert.ok(levels[0]!.extproc.localShare.mean >= 0.99, `local at ${levels[0]!.users} users: ${levels[0]!.extproc.localShare.mean}`);
}

test('simulated: ext_proc picks no worse than the EDS weights in mean, p95 and p99 at every level, a lower mean p99 at the highest, >= 99 % local at the lowest', (t) => {
  check(t, 0);
});

test('the same with every response 30 ms late (the picker’s slots held 30 ms longer than the pod holds the request, as on busy cores)', (t) => {
  check(t, 30);
});

test('with 10 % of decisions too late (the gateway follows the EDS weights), counting those requests where the weights send them gives a lower mean at 25 and 50 users than leaving them unseen', (t) => {
  const run = (counted: boolean) =>
    compareExtProcInSim((seed) => ({ ...faastScenario('full', seed), warmupMs: 30_000, measureMs: 30_000 }), [25, 50], SEEDS, 0, {
      share: 0.1,
      counted,
    });
  const unseen = run(false);
  const counted = run(true);
  for (const [i, l] of counted.entries()) {
    const u = unseen[i]!;
    t.diagnostic(
      `${l.users} users, unseen vs counted: mean ${formatInterval(u.extproc.meanMs)} vs ${formatInterval(l.extproc.meanMs)}, ` +
        `p95 ${formatInterval(u.extproc.p95Ms)} vs ${formatInterval(l.extproc.p95Ms)}, p99 ${formatInterval(u.extproc.p99Ms)} vs ${formatInterval(l.extproc.p99Ms)}`,
    );
    assert.equal(compareIntervals(l.extproc.meanMs, u.extproc.meanMs), 'lower', `${l.users} users mean`);
    for (const k of ['p95Ms', 'p99Ms'] as const)
      assert.notEqual(compareIntervals(l.extproc[k], u.extproc[k]), 'higher', `${l.users} users ${k}`);
  }
});

test('with the release path stalling (500 ms every 5 s on average: stream ends read late), >= 99 % local at 5 users, stable and no worse than the EDS weights in mean and p95 at 25 and 50', (t) => {
  const scenario = (seed: number) => ({ ...faastScenario('full', seed), warmupMs: 30_000, measureMs: 30_000 });
  const stalled = compareExtProcInSim(scenario, [5, 25, 50], SEEDS, 0, undefined, { meanGapMs: 5000, stallMs: 500 });
  for (const l of stalled) {
    t.diagnostic(
      `${l.users} users (EDS vs ext_proc, stalls): mean ${formatInterval(l.eds.meanMs)} vs ${formatInterval(l.extproc.meanMs)}, ` +
        `p95 ${formatInterval(l.eds.p95Ms)} vs ${formatInterval(l.extproc.p95Ms)}, p99 ${formatInterval(l.eds.p99Ms)} vs ${formatInterval(l.extproc.p99Ms)}, ` +
        `local ${formatInterval(l.extproc.localShare, 3)}`,
    );
    if (l.users === 5) {
      assert.ok(l.extproc.localShare.mean >= 0.99, `local at 5 users: ${formatInterval(l.extproc.localShare, 3)}`);
      continue;
    }
    // Stable: a picker whose counts let a queue grow unseen runs away on one seed (means of seconds),
    // which a wide interval would hide from the comparison below. A quarter above the weights'
    // highest plausible mean is far from that and clear of run-to-run detail (the order in which a
    // stall's slots are freed moves this level's interval by about 1 ms).
    assert.ok(
      l.extproc.meanMs.high <= 1.25 * l.eds.meanMs.high,
      `${l.users} users mean: ${formatInterval(l.extproc.meanMs)} vs ${formatInterval(l.eds.meanMs)}`,
    );
    for (const k of ['meanMs', 'p95Ms'] as const)
      assert.notEqual(
        compareIntervals(l.extproc[k], l.eds[k]),
        'higher',
        `${l.users} users ${k}: ${formatInterval(l.extproc[k])} vs ${formatInterval(l.eds[k])}`,
      );
  }
});
