import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QUEUE_PROXY_WINDOW_MS } from '../probe/queue-proxy/pod-tracker.js';
import { describeDesign, estimatorWindows, experimentDesign, feedbackPeriod, LEVEL_WINDOWS, OSCILLATION_PERIODS } from './design.js';

const loop = { probeIntervalMs: 1000, lrsIntervalMs: 1000, podRefreshMs: 2000 };

test('design: a level lasts 3× the longest window of the estimators the policies under test read', () => {
  // faast reads FaaSt's P_j (the pods' 10 s window) and the RTTs; proxima the pods' service time too.
  const d = experimentDesign(['proxima'], loop);
  assert.equal(d.longest.windowMs, QUEUE_PROXY_WINDOW_MS);
  assert.equal(d.minLevelMs, LEVEL_WINDOWS * QUEUE_PROXY_WINDOW_MS);
  assert.equal(d.minWarmupMs, LEVEL_WINDOWS * QUEUE_PROXY_WINDOW_MS);
  assert.equal(d.feedback, undefined);
  assert.match(
    describeDesign(d, 30_000, 30_000),
    /each level 30 s after a 30 s warm-up; .* = 10 s, so a warm-up lasts at least 3 × that = 30 s, and so does a level/,
  );
  // Labels name their base policy (proxima+extproc reads what proxima reads).
  assert.equal(experimentDesign(['proxima+extproc'], loop).minLevelMs, 30_000);
  // nearest reads only the RTT EWMA (α 0.3 per 1 s probe: 3.3 s); slower probes make it longer.
  const nearest = experimentDesign(['nearest'], loop);
  assert.equal(nearest.longest.input, 'rtt');
  assert.equal(nearest.longest.windowMs, estimatorWindows(loop).rtt.windowMs);
  assert.ok(experimentDesign(['nearest'], { ...loop, probeIntervalMs: 5000 }).minLevelMs > nearest.minLevelMs);
  // even reads nothing: no minimum.
  assert.equal(experimentDesign(['even'], loop).minLevelMs, 0);
  // A slower LRS makes its estimates slower. Demand is averaged since its last change, so a level
  // waits for the change detection: with 5 s reports, 4 reports = 20 s (the LRS response-time τ is 15 s).
  const slowLrs = experimentDesign(['proxima'], { ...loop, lrsIntervalMs: 5000 });
  assert.equal(slowLrs.longest.input, 'demand');
  assert.equal(slowLrs.longest.windowMs, 20_000);
  assert.equal(estimatorWindows({ ...loop, lrsIntervalMs: 5000 })['service-time'].windowMs, 15_000);
});

test('design: a policy that feeds back on the queueing it causes (faast) gets levels that hold several swings of its loop', () => {
  // FaaSt's P_j is the pods' latency, queue wait included, over 10 s, refreshed every 2 s: a swing out
  // and back waits twice for a window plus a refresh.
  const f = feedbackPeriod('faast', loop);
  assert.equal(f?.periodMs, 2 * (QUEUE_PROXY_WINDOW_MS + 2000));
  assert.equal(feedbackPeriod('proxima', loop), undefined);
  assert.equal(feedbackPeriod('nearest', loop), undefined);
  const d = experimentDesign(['faast', 'proxima'], loop);
  assert.equal(d.feedback?.policy, 'faast');
  assert.equal(d.minLevelMs, OSCILLATION_PERIODS * 24_000);
  // The warm-up still follows the longest window: the loop has seen the new load by then.
  assert.equal(d.minWarmupMs, LEVEL_WINDOWS * QUEUE_PROXY_WINDOW_MS);
  assert.match(
    describeDesign(d, 120_000, 30_000),
    /each level 120 s after a 30 s warm-up; .*faast oscillates: .*at least 5 swings = 120 s/,
  );
  // A slower refresh makes the swing longer, and the level with it.
  assert.ok(experimentDesign(['faast'], { ...loop, podRefreshMs: 5000 }).minLevelMs > d.minLevelMs);
});
