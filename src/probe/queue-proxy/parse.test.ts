import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { parsePromText } from './prom-text.js';
import { decodeStat, encodeStat, type QueueProxyStat } from './stat.js';
import { userMetricsTotals } from './usermetrics.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../../test/fixtures/queue-proxy/${name}`, import.meta.url), 'utf8');

// knative/serving pkg/autoscaler/metrics/stat.proto, declared field by field for an independent encoder.
function statType(): protobuf.Type {
  return new protobuf.Type('Stat')
    .add(new protobuf.Field('pod_name', 1, 'string'))
    .add(new protobuf.Field('average_concurrent_requests', 2, 'double'))
    .add(new protobuf.Field('average_proxied_concurrent_requests', 3, 'double'))
    .add(new protobuf.Field('request_count', 4, 'double'))
    .add(new protobuf.Field('proxied_request_count', 5, 'double'))
    .add(new protobuf.Field('process_uptime', 6, 'double'))
    .add(new protobuf.Field('timestamp', 7, 'int64'));
}

test('9090: a Stat encoded by protobufjs from stat.proto field numbers decodes to the same values', () => {
  const T = statType();
  const bytes = T.encode(
    T.create({
      pod_name: 'hello-00001-deployment-7c9f8d5b6-x2x9k',
      average_concurrent_requests: 2.5,
      average_proxied_concurrent_requests: 0.5,
      request_count: 100,
      proxied_request_count: 20,
      process_uptime: 3600.25,
      timestamp: 1733212345,
    }),
  ).finish();
  const d = decodeStat(bytes);
  assert.ok('stat' in d, JSON.stringify(d));
  assert.deepEqual(d.stat, {
    podName: 'hello-00001-deployment-7c9f8d5b6-x2x9k',
    averageConcurrentRequests: 2.5,
    averageProxiedConcurrentRequests: 0.5,
    requestCount: 100,
    proxiedRequestCount: 20,
    processUptimeS: 3600.25,
    timestampS: 1733212345,
  });
});

test('9090: our encoder is read back by protobufjs (the emulated queue-proxy speaks the real wire format)', () => {
  const s: QueueProxyStat = {
    podName: 'p',
    averageConcurrentRequests: 1.25,
    averageProxiedConcurrentRequests: 0,
    requestCount: 40,
    proxiedRequestCount: 0,
    processUptimeS: 12,
    timestampS: 1700000000,
  };
  const o = statType().toObject(statType().decode(encodeStat(s)), { longs: Number, defaults: true });
  assert.equal(o['pod_name'], 'p');
  assert.equal(o['average_concurrent_requests'], 1.25);
  assert.equal(o['request_count'], 40);
  assert.equal(o['process_uptime'], 12);
  assert.equal(o['timestamp'], 1700000000);
});

test('9090: garbage, truncation, unknown wire types and negative values are errors, never throws', () => {
  const good = encodeStat({
    podName: 'p',
    averageConcurrentRequests: 1,
    averageProxiedConcurrentRequests: 0,
    requestCount: 1,
    proxiedRequestCount: 0,
    processUptimeS: 1,
    timestampS: 0,
  });
  assert.ok('error' in decodeStat(good.subarray(0, good.length - 3)));
  assert.ok('error' in decodeStat(Buffer.from('queue_requests_per_second 1\n')));
  assert.ok('error' in decodeStat(Uint8Array.from([0x0f, 0x01])));
  const T = statType();
  assert.match(String((decodeStat(T.encode(T.create({ request_count: -1 })).finish()) as { error: string }).error), /negative/);
  // An empty message is a valid all-zero Stat (proto3 defaults).
  assert.ok('stat' in decodeStat(new Uint8Array()));
});

test('9091 OpenCensus era: totals summed over response codes, in ms, with the pod name', () => {
  const r = parsePromText(fixture('opencensus-9091-t0.txt'));
  assert.equal(r.badLines, 0);
  const t = userMetricsTotals(r.samples)!;
  assert.equal(t.era, 'opencensus');
  assert.deepEqual(t.request, { count: 1000, sumMs: 25000 });
  assert.deepEqual(t.app, { count: 1000, sumMs: 20000 });
  assert.equal(t.queueDepth, 3);
  assert.equal(t.podName, 'hello-00001-deployment-7c9f8d5b6-x2x9k');
});

test('9091 OpenTelemetry era: seconds become ms, the pod comes from target_info', () => {
  const r = parsePromText(fixture('opentelemetry-9091-t1.txt'));
  assert.equal(r.badLines, 0);
  const t = userMetricsTotals(r.samples)!;
  assert.equal(t.era, 'opentelemetry');
  assert.equal(t.request!.count, 1040);
  assert.ok(Math.abs(t.request!.sumMs - 26000) < 1e-6);
  assert.equal(t.app!.count, 1040);
  assert.ok(Math.abs(t.app!.sumMs - 20800) < 1e-6);
  assert.equal(t.queueDepth, 2);
  assert.equal(t.podName, 'hello-00001-deployment-7c9f8d5b6-x2x9k');
});

test('9091: the 1.19.0–1.20.0 name kn_queueproxy_app_duration_seconds is read as app latency', () => {
  const text = fixture('opentelemetry-9091-t0.txt').replaceAll(
    'kn_serving_invocation_duration_seconds',
    'kn_queueproxy_app_duration_seconds',
  );
  const t = userMetricsTotals(parsePromText(text).samples)!;
  assert.deepEqual(t.app && { count: t.app.count, sumMs: Math.round(t.app.sumMs) }, { count: 1000, sumMs: 20000 });
});

test('Prometheus text: escapes, special values, timestamps; malformed lines counted and skipped', () => {
  const r = parsePromText(
    [
      '# HELP x a "help"',
      'a{l="q\\"uo\\\\te\\n"} 1.5e3 1700000000000',
      'b +Inf',
      'c{l="x",} NaN',
      'd{l="x" 1',
      '{l="x"} 1',
      'e{l="unterminated} 1',
      'f notanumber',
      'g 1 2 3',
      '\u0000\u0001garbage',
      'h{ l = "sp" } -2',
    ].join('\n'),
  );
  assert.deepEqual(
    r.samples.map((s) => [s.name, s.labels, s.value]),
    [
      ['a', { l: 'q"uo\\te\n' }, 1500],
      ['b', {}, Infinity],
      ['c', { l: 'x' }, NaN],
      ['h', { l: 'sp' }, -2],
    ],
  );
  assert.equal(r.badLines, 6);
  assert.equal(parsePromText('a 1\nb 2\nc 3', 2).truncated, true);
});

test('9091: garbage or foreign metrics give no totals; a NaN or negative series makes that metric unknown', () => {
  assert.equal(userMetricsTotals(parsePromText('<html>502 Bad Gateway</html>').samples), undefined);
  assert.equal(userMetricsTotals(parsePromText('go_goroutines 12\nprocess_cpu_seconds_total 3\n').samples), undefined);
  const poisoned = fixture('opencensus-9091-t0.txt').replace(
    /revision_request_latencies_sum\{([^}]*)response_code="503"([^}]*)\} \S+/,
    'revision_request_latencies_sum{$1response_code="503"$2} NaN',
  );
  const t = userMetricsTotals(parsePromText(poisoned).samples)!;
  assert.equal(t.request, undefined, 'a NaN sum must not become a number');
  assert.deepEqual(t.app, { count: 1000, sumMs: 20000 });
});
