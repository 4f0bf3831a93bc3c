import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LOOP_VIEW, LoopView } from './loop-view.js';

test("LoopView: faast's P_j is FaaSt's — 0 before any request and for a pod idle over the window, averaged over the node's pods", () => {
  const view = new LoopView({ ...DEFAULT_LOOP_VIEW, latencyWindowMs: 10_000 }, () => 50, ['a', 'b']);
  const p = () => view.input('s', ['a', 'b'], [{ node: 'a', readyEndpoints: 2, capacity: 4 }]).faastLatencyMs!;
  assert.equal(p()('a'), 0, 'nothing measured yet');
  view.completion('a', 1000, 30, { pod: 0, inPodMs: 30, appMs: 20 });
  view.completion('a', 1000, 50, { pod: 1, inPodMs: 50, appMs: 20 });
  view.refreshLatency(2000);
  assert.equal(p()('a'), 40);
  view.completion('a', 12_000, 60, { pod: 0, inPodMs: 60, appMs: 20 });
  view.refreshLatency(13_000); // pod 1 completed nothing in (3 s, 13 s]: it counts 0
  assert.equal(p()('a'), 30);
  view.refreshLatency(30_000);
  assert.equal(p()('a'), 0, 'no request in the window: 0, not the last value');
});
