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
