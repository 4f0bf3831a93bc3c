import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceTimeAccuracy } from './input-accuracy.js';
import type { RequestRecord } from './stats.js';

const rec = (startMs: number, servedBy: string, serviceMs: number): RequestRecord => ({
  gateway: 'edge-1',
  startMs,
  latencyMs: serviceMs + 1,
  ok: true,
  servedBy,
  serviceMs,
});

test("input accuracy: the model's service time against the pods' true mean, over the measured part only", () => {
  // True means: edge-1 20 ms, cloud-1 30 ms (100 requests each after the warm-up at 1000 ms).
  const records = [
    ...Array.from({ length: 100 }, (_, i) => rec(1000 + i, 'edge-1', i % 2 ? 18 : 22)),
    ...Array.from({ length: 100 }, (_, i) => rec(1000 + i, 'cloud-1', 30)),
    // Warm-up requests do not count; nor failed ones.
    ...Array.from({ length: 100 }, (_, i) => rec(i, 'edge-1', 90)),
    { ...rec(1500, 'edge-1', 500), ok: false },
  ];
  const sample = (tMs: number, edge: number, cloud: number, rawEdge = 20) => ({
    tMs,
    inputs: {
      'edge-1': { source: 'queue-proxy app latency', modelServiceTimeMs: edge, podAppLatencyMs: rawEdge },
      'cloud-1': { source: 'queue-proxy app latency', modelServiceTimeMs: cloud, podAppLatencyMs: 30 },
    },
  });
  const samples = [
    sample(500, 5, 5), // warm-up: not judged
    sample(1000, 20, 30),
    sample(2000, 21.9, 27.1),
    sample(3000, 17.9, 30, 25), // edge-1's model 10.5 % low; raw 25 % high
    sample(4000, 20, 33.5), // cloud-1 11.7 % high
  ];
  const a = serviceTimeAccuracy(records, samples, 1000)!;
  assert.equal(a.samples, 4);
  assert.equal(a.byNode['edge-1']!.trueMeanMs, 20);
  assert.equal(a.byNode['edge-1']!.requests, 100);
  assert.equal(a.byNode['edge-1']!.modelWithinShare, 0.75);
  assert.equal(a.byNode['cloud-1']!.modelWithinShare, 0.75);
  assert.equal(a.byNode['edge-1']!.rawWithinShare, 0.75);
  assert.equal(a.byNode['edge-1']!.modelMinMs, 17.9);
  // Every node within 10 % at once: 2 of 4 samples.
  assert.equal(a.modelWithinShare, 0.5);
  assert.equal(a.rawWithinShare, 0.75);
  // A node with too few requests has no meaningful true mean; without model values there is no answer.
  assert.deepEqual(Object.keys(serviceTimeAccuracy(records.slice(0, 140), samples, 1000)!.byNode), ['edge-1']);
  assert.equal(serviceTimeAccuracy(records, [{ tMs: 2000, inputs: {} }], 1000), undefined);
});
