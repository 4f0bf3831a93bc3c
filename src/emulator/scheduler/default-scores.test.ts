import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spreadScores, POD_TOPOLOGY_SPREAD_WEIGHT, type NodeResources } from './default-scores.js';

const node = (name: string, revisionPods: number, zone?: string): NodeResources => ({
  name,
  allocatableCpuMilli: 4000,
  allocatableMemoryMiB: 8192,
  maxPods: 110,
  requestedCpuMilli: 0,
  requestedMemoryMiB: 0,
  pods: revisionPods,
  revisionPods,
  ...(zone !== undefined ? { zone } : {}),
});

describe('spreadScores (PodTopologySpread with the system default constraints)', () => {
  it('scores hostname and zone domains by ln(domains + 2) and maxSkew - 1, normalised as the plugin does', () => {
    // Three nodes in three zones: per node 2 × (pods × ln 5) + 2 + 4, rounded: 12, 9, 6.
    const s = spreadScores([node('edge-1', 2, 'a'), node('edge-2', 1, 'b'), node('cloud-1', 0, 'c')]);
    assert.deepEqual(Object.fromEntries(s), { 'edge-1': 50, 'edge-2': 75, 'cloud-1': 100 });
    // One pod more on edge-1 than on edge-2 costs it 50 weighted points, not the 100 of a linear share.
    assert.equal(POD_TOPOLOGY_SPREAD_WEIGHT * (s.get('edge-2')! - s.get('edge-1')!), 50);
  });

  it('counts a zone over its nodes and uses the hostname constraint alone on nodes without a zone label', () => {
    const zoned = spreadScores([node('a1', 1, 'a'), node('a2', 0, 'a'), node('b1', 0, 'b')]);
    // a1: 1·ln5 + 2 + 1·ln4 + 4 = 8.99 → 9; a2: 2 + 1.39 + 4 → 7; b1: 6. max 9, min 6.
    assert.deepEqual(Object.fromEntries(zoned), { a1: 66, a2: 88, b1: 100 });
    const bare = spreadScores([node('x', 2), node('y', 1), node('z', 0)]);
    // 2·ln5 + 2 = 5.2 → 5, 3.6 → 4, 2: 100·(7 − s)/5.
    assert.deepEqual(Object.fromEntries(bare), { x: 40, y: 60, z: 100 });
  });

  it('gives every node the full score when none has a pod of the revision', () => {
    assert.deepEqual([...spreadScores([node('a', 0, 'a'), node('b', 0, 'b')]).values()], [100, 100]);
  });
});
