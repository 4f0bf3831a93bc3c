import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delayStepRuns } from './delay-step-sim.js';

test('delay step in the simulator: edge-1 ends on its best split (all to edge-2); the runs are deterministic per seed', () => {
  const a = delayStepRuns({ seeds: [1, 2] });
  assert.deepEqual(a.best['edge-1'], { 'edge-2': 100 });
  for (const s of a.seeds) assert.equal(s.endDistance['edge-1'], 0, JSON.stringify(s.endShares));
  // edge-2 splits its own traffic between its pod and the cloud; where it ends is measured, not assumed.
  assert.ok(a.best['edge-2']!['cloud-1']! > 0 && a.best['edge-2']!['edge-2']! > 0, JSON.stringify(a.best));
  assert.deepEqual(delayStepRuns({ seeds: [1, 2] }).seeds, a.seeds);
});

test('delay step in the simulator: each seed is judged against the best split for the demand its arrivals drew', () => {
  const { best, seeds } = delayStepRuns({ seeds: [4] });
  const s = seeds[0]!;
  // Seed 4 draws edge-1 about 3 requests/s above the configured 50: its best split is not the nominal one.
  assert.ok(s.arrivedRps['edge-1']! > 52, JSON.stringify(s.arrivedRps));
  assert.ok(best['edge-2']!['edge-2']! - s.best['edge-2']!['edge-2']! > 5, `${JSON.stringify(best)} vs ${JSON.stringify(s.best)}`);
  const last = s.endShares['edge-2']!;
  const distance = (b: Record<string, number>) =>
    Math.max(...Object.keys({ ...b, ...last }).map((n) => Math.abs((b[n] ?? 0) - (last[n] ?? 0))));
  assert.ok(distance(s.best['edge-2']!) < distance(best['edge-2']!), `ends ${JSON.stringify(last)}`);
});
