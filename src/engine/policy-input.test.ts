import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelStore } from '../model/store.js';
import { nodeServiceInput } from './policy-input.js';

const row = (atMs: number, windowRequestLatencyMs?: number) => ({
  pods: 1,
  podsFailed: 0,
  requestRps: 0,
  concurrency: 0,
  queueDepth: 0,
  atMs,
  ...(windowRequestLatencyMs !== undefined ? { windowRequestLatencyMs, requestLatencyMs: windowRequestLatencyMs } : {}),
});

test("faast's P_j: the pods' 10 s latency of this row only; a row without one is FaaSt's 0, not the last value or the LRS estimate", () => {
  const store = new ModelStore();
  store.setPodSignal('default/hello', 'edge-1', row(1000, 240));
  const busy = nodeServiceInput(store, 'default/hello', 'edge-1', 1000);
  assert.equal(busy.faastLatencyMs, 240);
  assert.equal(busy.faastSource, 'queue-proxy 10 s request latency');
  // The next window saw no completed request: miporin's query answers NaN, read as 0.
  store.setPodSignal('default/hello', 'edge-1', row(3000));
  const idle = nodeServiceInput(store, 'default/hello', 'edge-1', 3000);
  assert.equal(idle.faastLatencyMs, 0);
  assert.equal(idle.faastSource, 'queue-proxy 10 s request latency');
  // proxima keeps the last measured latency of an idle node (its service time does not change when idle).
  assert.equal(idle.serviceTimeMs, 240);
  // No queue-proxy reports at all (a plain Service): the fallback, marked as such.
  const none = nodeServiceInput(store, 'default/hello', 'cloud-1', 3000);
  assert.equal(none.faastLatencyMs, undefined);
  assert.equal(none.faastSource, 'default');
});
