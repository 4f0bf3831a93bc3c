import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodTracker } from '../probe/queue-proxy/pod-tracker.js';
import { parsePromText } from '../probe/queue-proxy/prom-text.js';
import { userMetricsTotals } from '../probe/queue-proxy/usermetrics.js';
import { QueueProxyMeter } from './queue-proxy-meter.js';

const labels = { namespace: 'default', service: 'hello', revision: 'hello-00001', pod: 'hello-1' };

test('meter: 9090 stat is the last full second (time-weighted concurrency incl. queued, rate); 9091 text reads back', () => {
  const m = new QueueProxyMeter(labels, 0);
  // Two requests: A arrives at 100, starts at once, done at 300; B arrives 200, waits until 300, done at 500.
  m.arrived(100);
  m.started(100);
  m.arrived(200);
  m.finished(300, 200, 200);
  m.started(300);
  m.finished(500, 300, 200);
  const s = m.stat(1500);
  // Area: 1 request 100–200, 2 requests 200–300, 1 request 300–500 = 100 + 200 + 200 = 500 request·ms in 1 s.
  assert.ok(Math.abs(s.averageConcurrentRequests - 0.5) < 1e-9, String(s.averageConcurrentRequests));
  assert.equal(s.requestCount, 2);
  assert.equal(s.processUptimeS, 1.5);
  const t = userMetricsTotals(parsePromText(m.text()).samples)!;
  assert.deepEqual(t.request, { count: 2, sumMs: 500 });
  assert.deepEqual(t.app, { count: 2, sumMs: 400 });
  assert.equal(t.queueDepth, 0);
  assert.equal(t.podName, 'hello-1');
  // An idle stretch reports zero, not the old window.
  assert.equal(m.stat(10_000).requestCount, 0);
});

test('meter: a restart zeroes counters and uptime, which the tracker reads as a reset', () => {
  const m = new QueueProxyMeter(labels, 0);
  const tracker = new PodTracker();
  for (let i = 0; i < 10; i++) {
    m.arrived(i * 10);
    m.started(i * 10);
    m.finished(i * 10 + 5, 5, 5);
  }
  tracker.observe('p', { stat: m.stat(1000), totals: userMetricsTotals(parsePromText(m.text()).samples)! }, 1000);
  m.restart(1500);
  m.arrived(1600);
  m.started(1600);
  m.finished(1610, 10, 10);
  const s = tracker.observe('p', { stat: m.stat(2000), totals: userMetricsTotals(parsePromText(m.text()).samples)! }, 2000);
  assert.equal(s.reset, true);
  assert.deepEqual(s.request, { count: 1, sumMs: 10 });
});
