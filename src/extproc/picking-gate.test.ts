import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evenPolicy } from '../policy/even.js';
import { faastPolicy } from '../policy/faast.js';
import { nearestPolicy } from '../policy/nearest.js';
import { proximaPolicy } from '../policy/proxima.js';
import type { GatewayAssignment, LocalityAssignment } from '../policy/types.js';
import { pickingSkippable, weightsStayOnNode } from './picking-gate.js';

const row = (...localities: LocalityAssignment[]): GatewayAssignment => ({ service: 'default/hello', reason: 'test', localities });

test('a row stays on the node when every weighted locality of its lowest priority is that node', () => {
  const table: Array<[GatewayAssignment | undefined, boolean, string]> = [
    [row({ node: 'edge-1', priority: 0, weight: 1000 }), true, 'all local'],
    [row({ node: 'edge-1', priority: 0, weight: 1000 }, { node: 'cloud-1', priority: 1, weight: 1000 }), true, 'failover elsewhere'],
    [row({ node: 'edge-1', priority: 0, weight: 990 }, { node: 'edge-2', priority: 0, weight: 10 }), false, '1 % away'],
    [row({ node: 'edge-2', priority: 0, weight: 1000 }, { node: 'edge-1', priority: 1, weight: 1000 }), false, 'local only as failover'],
    [row({ node: 'edge-2', priority: 0, weight: 1000 }), false, 'all remote'],
    [
      row({ node: 'edge-1', priority: 1, weight: 1000 }, { node: 'cloud-1', priority: 2, weight: 1000 }),
      true,
      'priorities need not start at 0',
    ],
    [row(), false, 'no localities'],
    [undefined, false, 'no row'],
  ];
  for (const [r, expected, why] of table) assert.equal(weightsStayOnNode(r, 'edge-1'), expected, why);
});

test('only a policy that reads the demand may skip the picker', () => {
  assert.equal(pickingSkippable(proximaPolicy), true);
  assert.equal(pickingSkippable(nearestPolicy), false, 'always local when a local pod is ready: the picker is what spills it');
  assert.equal(pickingSkippable(faastPolicy), false);
  assert.equal(pickingSkippable(evenPolicy), false);
});
