import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatePods } from './aggregate.js';
import { PodTracker } from './pod-tracker.js';
import { parsePromText } from './prom-text.js';
import type { QueueProxyStat } from './stat.js';
import { userMetricsTotals, type UserMetricsTotals } from './usermetrics.js';

const totalsOf = (name: string): UserMetricsTotals =>
  userMetricsTotals(
    parsePromText(readFileSync(new URL(`../../../../test/fixtures/queue-proxy/${name}`, import.meta.url), 'utf8')).samples,
  )!;

const close = (a: number | undefined, b: number, eps = 1e-6) => assert.ok(a !== undefined && Math.abs(a - b) < eps, `${a} ≉ ${b}`);

const stat = (over: Partial<QueueProxyStat>): QueueProxyStat => ({
  podName: 'p',
  averageConcurrentRequests: 0,
  averageProxiedConcurrentRequests: 0,
  requestCount: 0,
  proxiedRequestCount: 0,
  processUptimeS: 100,
  timestampS: 0,
  ...over,
});

for (const era of ['opencensus', 'opentelemetry'] as const) {
  test(`${era}: two real-format scrapes 2 s apart give rate, request and app latency`, () => {
    const t = new PodTracker();
    const first = t.observe('p', { totals: totalsOf(`${era}-9091-t0.txt`) }, 10_000);
    assert.equal(first.request, undefined, 'the first scrape is only a baseline');
    const s = t.observe('p', { totals: totalsOf(`${era}-9091-t1.txt`) }, 12_000);
    close(s.requestRps, 20);
    assert.equal(s.request!.count, 40);
    close(s.request!.sumMs / s.request!.count, 25);
    close(s.app!.sumMs / s.app!.count, 20);
    close(s.windowRequestLatencyMs, 25);
    close(s.concurrency, 0.5); // Little: 20 rps × 25 ms
    assert.equal(s.queueDepth, 2);
    assert.equal(s.reset, false);
  });
}

const totals = (count: number, sumMs: number): UserMetricsTotals => ({
  era: 'opencensus',
  request: { count, sumMs },
  app: { count, sumMs: sumMs * 0.8 },
});

test('a counter that goes down is a restart: the new value is the delta since it, never a negative rate', () => {
  const t = new PodTracker();
  t.observe('p', { totals: totals(5000, 100_000) }, 0);
  const s = t.observe('p', { totals: totals(30, 900) }, 2000);
  assert.equal(s.reset, true);
  close(s.requestRps, 15);
  close(s.request!.sumMs / s.request!.count, 30);
});

test('a 9090 uptime that goes down is a restart even when the counters happen to have grown', () => {
  const t = new PodTracker();
  t.observe('p', { totals: totals(10, 100), stat: stat({ processUptimeS: 500 }) }, 0);
  const s = t.observe(
    'p',
    { totals: totals(40, 1200), stat: stat({ processUptimeS: 2, requestCount: 20, averageConcurrentRequests: 0.6 }) },
    2000,
  );
  assert.equal(s.reset, true);
  assert.equal(s.request!.count, 40, 'every request counted since the restart');
  close(s.littleMs, 30);
  // With both ports: the rate from the 9091 counters, the time-averaged concurrency from the 9090 stat.
  close(s.concurrency, 0.6);
});

test('FaaSt window: rate(sum[10s]) / rate(count[10s]) over the deltas of the last 10 s only', () => {
  const t = new PodTracker({ windowMs: 10_000 });
  let count = 0;
  let sum = 0;
  t.observe('p', { totals: totals(count, sum) }, 0);
  // 6 intervals of 2 s at 10 ms, then 5 at 50 ms: after the last, the window holds only 50 ms ones.
  let s;
  for (let i = 1; i <= 11; i++) {
    const ms = i <= 6 ? 10 : 50;
    count += 20;
    sum += 20 * ms;
    s = t.observe('p', { totals: totals(count, sum) }, i * 2000);
    if (i === 8) close(s.windowRequestLatencyMs, (3 * 10 + 2 * 50) / 5);
  }
  close(s!.windowRequestLatencyMs, 50);
  close(s!.windowRequestRps, 10); // 20 requests per 2 s over the window's 10 s
  close(s!.windowApp!.sumMs / s!.windowApp!.count, 40, 1e-6); // app latency is 0.8 × request here, same window
});

test('the 0 s sum of Knative 1.19.0–1.19.8 is an unknown latency, not 0 ms', () => {
  const t = new PodTracker();
  t.observe('p', { totals: { era: 'opentelemetry', request: { count: 10, sumMs: 0 } } }, 0);
  const s = t.observe('p', { totals: { era: 'opentelemetry', request: { count: 30, sumMs: 0 } } }, 1000);
  close(s.requestRps, 20);
  const a = aggregatePods('default/hello', [s], 0);
  assert.equal(a.requestLatencyMs, undefined);
  // FaaSt's P_j is what its query reads: rate(sum) / rate(count) = 0 here.
  assert.equal(a.windowRequestLatencyMs, 0);
  assert.equal(a.latencySource, 'none');
});

test("only 9090: Little's law on the stat gives the latency (source autometric)", () => {
  const t = new PodTracker();
  const s = t.observe('p', { stat: stat({ requestCount: 50, averageConcurrentRequests: 1.5 }) }, 0);
  const a = aggregatePods('default/hello', [s], 0);
  close(a.requestLatencyMs, 30);
  assert.equal(a.latencySource, 'autometric');
  close(a.requestRps, 50);
  close(a.concurrency, 1.5);
});

test('aggregate over pods: rates and queues add up, latency is completion-weighted, FaaSt averages pods, failures counted', () => {
  const t = new PodTracker();
  t.observe('a', { totals: totals(0, 0) }, 0);
  t.observe('b', { totals: totals(0, 0) }, 0);
  const a = t.observe('a', { totals: { ...totals(30, 300), queueDepth: 1 } }, 1000); // 30 rps at 10 ms
  const b = t.observe('b', { totals: { ...totals(10, 500), queueDepth: 4 } }, 1000); // 10 rps at 50 ms
  const g = aggregatePods('default/hello', [a, b], 1);
  assert.equal(g.pods, 2);
  assert.equal(g.podsFailed, 1);
  close(g.requestRps, 40);
  close(g.requestLatencyMs, 800 / 40);
  close(g.appLatencyMs, 640 / 40);
  close(g.windowRequestLatencyMs, 30); // (10 + 50) / 2, as miporin's libs.Average over the node's pods
  assert.equal(g.queueDepth, 5);
  assert.equal(g.latencySource, 'usermetric');
});

test('a pod that misses scrapes keeps its baseline; retain() forgets pods that are gone', () => {
  const t = new PodTracker();
  t.observe('a', { totals: totals(0, 0) }, 0);
  t.observe('b', { totals: totals(0, 0) }, 0);
  // b misses the scrape at 1 s; at 2 s its delta covers both seconds.
  t.observe('a', { totals: totals(10, 100) }, 1000);
  const b = t.observe('b', { totals: totals(40, 800) }, 2000);
  close(b.requestRps, 20);
  t.retain(new Set(['a']));
  assert.equal(t.size, 1);
  const again = t.observe('b', { totals: totals(60, 1000) }, 3000);
  assert.equal(again.request, undefined, 'a pod seen again after being forgotten starts a new baseline');
});

test("FaaSt's P_j of a pod that completed nothing in the window is 0 (PromQL's 0/0, read as 0 by miporin), and it counts in the node's average", () => {
  const t = new PodTracker({ windowMs: 10_000 });
  const first = t.observe('a', { totals: totals(10, 200) }, 0);
  assert.equal(first.windowRequestLatencyMs, undefined, 'one scrape: no rate yet, the pod is not in the average');
  const busy = t.observe('a', { totals: totals(30, 600) }, 2000); // 20 requests at 20 ms
  close(busy.windowRequestLatencyMs, 20);
  let idle = busy;
  for (let ms = 4000; ms <= 14_000; ms += 2000) idle = t.observe('a', { totals: totals(30, 600) }, ms);
  assert.equal(idle.windowRequestLatencyMs, 0, 'nothing completed in the last 10 s');
  assert.equal(idle.windowRequest, undefined, "proxima's latencies stay unknown, not 0");
  const u = new PodTracker();
  u.observe('b', { totals: totals(0, 0) }, 12_000);
  const other = u.observe('b', { totals: totals(10, 400) }, 14_000); // 40 ms
  close(aggregatePods('default/hello', [idle, other], 0).windowRequestLatencyMs, 20); // (0 + 40) / 2
});
