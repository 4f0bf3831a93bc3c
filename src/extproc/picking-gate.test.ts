import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evenPolicy } from '../policy/even.js';
import { faastPolicy } from '../policy/faast.js';
import { nearestPolicy } from '../policy/nearest.js';
import { proximaPolicy } from '../policy/proxima.js';
import type { GatewayAssignment, LocalityAssignment } from '../policy/types.js';
import type { PodSignal } from '../model/pod-signals.js';
import { nodesSkippingPicker, pickingSkippable, podsToAskAbout, weightsStayOnNode } from './picking-gate.js';

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

test("the pods to ask about: slower than twice their peers' median, or queueing longer than they serve", () => {
  const at = { pods: 1, podsFailed: 0, requestRps: 10, concurrency: 0.2, queueDepth: 0, atMs: 0 };
  const pod = (appLatencyMs: number | undefined, requestLatencyMs = appLatencyMs): PodSignal => ({
    ...at,
    ...(appLatencyMs !== undefined ? { appLatencyMs } : {}),
    ...(requestLatencyMs !== undefined ? { requestLatencyMs } : {}),
  });
  const ask = (rows: Record<string, PodSignal>) => podsToAskAbout(new Map(Object.entries(rows)));
  assert.deepEqual(ask({ a: pod(20), b: pod(21), c: pod(19) }), [], 'alike');
  assert.deepEqual(ask({ a: pod(100), b: pod(20), c: pod(20) }), ['a'], 'service time × 5');
  assert.deepEqual(ask({ a: pod(39), b: pod(20), c: pod(20) }), [], 'under twice the peers');
  assert.deepEqual(ask({ a: pod(45), b: pod(20), c: pod(200) }), ['c'], "a against its peers' median (110), not the fastest (20)");
  assert.deepEqual(ask({ a: pod(20, 45), b: pod(20), c: pod(20) }), ['a'], 'a queue longer than the service');
  assert.deepEqual(ask({ a: pod(20, 39), b: pod(20) }), [], 'a short queue');
  assert.deepEqual(ask({ a: pod(100) }), [], 'no peer to compare with');
  assert.deepEqual(ask({ a: pod(undefined), b: pod(20) }), [], 'no latency measured');
  assert.deepEqual(ask({ c: pod(100), a: pod(20, 50), b: pod(20) }), ['a', 'c'], 'sorted');
});

test('a node skips the picker only where no gateway that asks it can be sent to its pods', () => {
  const local = (node: string, ...failover: string[]) =>
    row({ node, priority: 0, weight: 1000 }, ...failover.map((n, i) => ({ node: n, priority: i + 1, weight: 1000 })));
  const skipping = (rows: Record<string, GatewayAssignment>, unwell?: string[]) =>
    [...nodesSkippingPicker(new Map(Object.entries(rows)), unwell ? new Set(unwell) : undefined, '*')].sort();
  assert.deepEqual(skipping({ a: local('a', 'b'), b: local('b', 'a'), c: local('c') }), ['a', 'b', 'c'], 'every row local');
  const spills = row({ node: 'a', priority: 0, weight: 800 }, { node: 'b', priority: 0, weight: 200 });
  assert.deepEqual(skipping({ a: spills, b: local('b'), c: local('c') }), ['c'], "a picks onto b's pod: b asks too");
  assert.deepEqual(
    skipping({
      a: row({ node: 'a', priority: 0, weight: 900 }, { node: 'c', priority: 0, weight: 100 }),
      b: local('b', 'c'),
      c: local('c'),
    }),
    ['b'],
    'b fails over to c only when c is out, yet the picker weighs every priority: c asks, b does not',
  );
  assert.deepEqual(
    skipping({ a: local('a', 'b'), b: local('b'), c: local('c') }, ['a']),
    ['c'],
    "a's pods are slow: a asks and may be sent to b",
  );
  assert.deepEqual(
    skipping({ a: local('a'), b: local('b'), '*': row({ node: 'a', priority: 0, weight: 1 }, { node: 'b', priority: 0, weight: 1 }) }),
    ['a', 'b'],
    "the unknown nodes' row is not counted",
  );
  assert.deepEqual(skipping({ a: row({ node: 'b', priority: 0, weight: 1000 }), b: local('b') }), [], 'a has no pod: it picks onto b');
});
