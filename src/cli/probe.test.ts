import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, UsageError } from '../config.js';
import { QUEUE_PROXY_WINDOW_MS } from '../probe/queue-proxy/pod-tracker.js';
import { probeOptionsFrom } from './probe.js';
import { PROBE_SPEC } from './specs.js';

const base = ['--node', 'edge-1', '--control-plane', '127.0.0.1:18000'];
const options = (extra: string[], env: Record<string, string> = {}) => probeOptionsFrom(parseOptions(PROBE_SPEC, [...base, ...extra], env));

test("--queue-proxy-window-ms: FaaSt's 10 s by default, settable by flag or env, never shorter than the scrape interval", () => {
  assert.equal(options([]).queueProxy?.windowMs, QUEUE_PROXY_WINDOW_MS);
  assert.equal(
    options(['--queue-proxy-interval-ms', '500', '--queue-proxy-timeout-ms', '500', '--queue-proxy-window-ms', '2500']).queueProxy
      ?.windowMs,
    2500,
  );
  assert.equal(options([], { PROXIMA_QUEUE_PROXY_WINDOW_MS: '4000' }).queueProxy?.windowMs, 4000);
  assert.throws(
    () => options(['--queue-proxy-interval-ms', '2000', '--queue-proxy-window-ms', '1000']),
    (e: unknown) => e instanceof UsageError && /--queue-proxy-window-ms/.test(e.message),
  );
  assert.throws(() => options(['--queue-proxy-window-ms', 'soon']), UsageError);
});

test('--queue-proxy-interval-ms: every second by default, as often as Knative scrapes the same queue-proxies', () => {
  // knative/serving pkg/autoscaler/metrics/collector.go: scrapeTickInterval = time.Second.
  assert.equal(options([]).queueProxy?.intervalMs, 1000);
});
