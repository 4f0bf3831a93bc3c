import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evenPolicy } from '../policy/even.js';
import { faastScenario } from './scenario.js';
import { runSimulation } from './simulator.js';
import { fixedSplitPolicy, runYardstick, spillNode } from './yardstick.js';

test('yardstick: the spill node is the cloud; a fixed split routes exactly as given in the simulator', () => {
  const s = faastScenario(2, 50);
  assert.equal(spillNode(s), 'cloud');
  const allCloud = fixedSplitPolicy(
    new Map([
      ['edge-1', new Map([['cloud', 1]])],
      ['edge-2', new Map([['cloud', 1]])],
    ]),
  );
  const r = runSimulation({ scenario: s, policy: allCloud, users: 5, seed: 1, warmupMs: 1000, measureMs: 5000 });
  assert.equal(r.entryShare, 0, 'nothing served on the entry node');
  assert.ok(r.meanMs > 50, `every request crosses the 50 ms link: ${r.meanMs}`);
});

test('yardstick: at low load the optimum is all-local and proxima finds it; under load it beats even and proxima is near it', () => {
  const [low, high] = runYardstick({
    scenario: faastScenario(2, 50),
    users: [5, 30],
    seed: 2,
    warmupMs: 5000,
    measureMs: 15_000,
    passes: 1,
  });
  // At low load everything local is the optimum, and proxima finds it.
  assert.equal(low!.bestSource, 'grid');
  assert.deepEqual(
    Object.values(low!.gridSplit).map((g) => g.x),
    [1, 1],
  );
  assert.ok(Math.abs(low!.proximaDistance) < 0.02, `low: ${low!.proximaDistance}`);
  // The optimum is at least as good as a naive split (even), evaluated in the same simulator.
  const even = runSimulation({ scenario: faastScenario(2, 50), policy: evenPolicy, users: 30, seed: 2, warmupMs: 5000, measureMs: 15_000 });
  assert.ok(high!.bestMeanMs < even.meanMs, `${high!.bestMeanMs} vs even ${even.meanMs}`);
  assert.ok(high!.candidatesEvaluated > 30);
  assert.ok(high!.proximaDistance < 0.15, `high: proxima ${high!.proximaMeanMs} vs optimum ${high!.bestMeanMs}`);
});
