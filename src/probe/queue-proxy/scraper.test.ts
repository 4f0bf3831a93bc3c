import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { QueueProxyMetricsServer } from '../../emulator/queue-proxy-server.js';
import { QueueProxyScraper, type ScrapeTarget } from './scraper.js';
import type { QueueProxyStat } from './stat.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../../test/fixtures/queue-proxy/${name}`, import.meta.url), 'utf8');

const stat = (rps: number, concurrency: number, uptime = 100): QueueProxyStat => ({
  podName: 'p',
  averageConcurrentRequests: concurrency,
  averageProxiedConcurrentRequests: 0,
  requestCount: rps,
  proxiedRequestCount: 0,
  processUptimeS: uptime,
  timestampS: 0,
});

async function rawServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}

test('scraper over loopback: real-format pages in both eras, a dead pod, garbage, a hung pod and an oversize page', async () => {
  let page = { oc: 'opencensus-9091-t0.txt', ot: 'opentelemetry-9091-t0.txt' };
  const oc = new QueueProxyMetricsServer({ stat: () => stat(20, 0.6), text: () => fixture(page.oc) });
  const ot = new QueueProxyMetricsServer({ stat: () => stat(20, 0.4), text: () => fixture(page.ot) });
  await oc.listen('127.0.0.1');
  await ot.listen('127.0.0.1');
  const garbage = await rawServer((_req, res) => res.end('<html>oops</html>\n\u0000\u0001'));
  const hung = await rawServer(() => undefined);
  const big = await rawServer((_req, res) => res.end('x'.repeat(70_000)));
  const dead = await rawServer(() => undefined);
  await new Promise<void>((r) => dead.server.close(() => r()));
  const registry = new Registry();
  let now = 1_000_000;
  const scraper = new QueueProxyScraper({ timeoutMs: 300, concurrency: 3, maxBodyBytes: 64_000, registry, nowMs: () => now });
  const t = (service: string, pod: string, auto: number, user: number): ScrapeTarget => ({
    service,
    pod,
    host: '127.0.0.1',
    autometricPort: auto,
    usermetricPort: user,
  });
  const targets = [
    t('default/hello', 'oc', oc.autometricPort, oc.usermetricPort),
    t('default/hello', 'ot', ot.autometricPort, ot.usermetricPort),
    t('default/hello', 'dead', dead.port, dead.port),
    t('default/other', 'garbage', garbage.port, garbage.port),
    t('default/other', 'hung', hung.port, hung.port),
    t('default/other', 'big', 0, big.port),
  ];
  try {
    const first = await scraper.round(targets);
    assert.equal(first.length, 2);
    page = { oc: 'opencensus-9091-t1.txt', ot: 'opentelemetry-9091-t1.txt' };
    now += 2000;
    const started = performance.now();
    const [hello, other] = await scraper.round(targets);
    assert.ok(performance.now() - started < 1000, 'a hung pod costs one timeout, not the round');
    assert.equal(hello!.service, 'default/hello');
    assert.equal(hello!.pods, 2);
    assert.equal(hello!.podsFailed, 1);
    assert.ok(Math.abs(hello!.requestRps - 40) < 1e-9, `rps ${hello!.requestRps}`);
    assert.ok(Math.abs(hello!.requestLatencyMs! - 25) < 1e-9);
    assert.ok(Math.abs(hello!.windowRequestRps! - 40) < 1e-9, 'the rate over the latency window');
    assert.ok(Math.abs(hello!.appLatencyMs! - 20) < 1e-9);
    assert.ok(Math.abs(hello!.windowRequestLatencyMs! - 25) < 1e-9);
    assert.ok(Math.abs(hello!.concurrency - 1.0) < 1e-9, 'concurrency from the 9090 stats: 0.6 + 0.4');
    assert.equal(hello!.queueDepth, 4);
    assert.equal(hello!.latencySource, 'usermetric');
    assert.equal(other!.pods, 0);
    assert.equal(other!.podsFailed, 3);
    assert.equal(other!.requestLatencyMs, undefined, 'garbage never becomes a number');
    const m = await registry.getMetricsAsJSON();
    const scrapes = m.find((x) => x.name === 'proxima_probe_queue_proxy_scrapes_total')!.values;
    const count = (port: string, outcome: string) =>
      scrapes.find((v) => v.labels['port'] === port && v.labels['outcome'] === outcome)?.value ?? 0;
    assert.equal(count('usermetric', 'ok'), 4);
    assert.equal(count('usermetric', 'garbage'), 2);
    assert.equal(count('usermetric', 'timeout'), 2);
    assert.equal(count('usermetric', 'too_large'), 2);
    assert.equal(count('usermetric', 'error'), 2);
    assert.equal(count('autometric', 'garbage'), 2, 'a text page on 9090 is not a Stat');
    assert.ok((m.find((x) => x.name === 'proxima_probe_queue_proxy_bad_lines_total')!.values[0]?.value ?? 0) >= 2);
    assert.ok(scraper.lastRound.bytes > 10_000);
  } finally {
    scraper.close();
    await oc.close();
    await ot.close();
    for (const s of [garbage, hung, big]) {
      s.server.closeAllConnections();
      await new Promise<void>((r) => s.server.close(() => r()));
    }
  }
});

test("the emulated 9090 port refuses text (406), as today's queue-proxy does", async () => {
  const s = new QueueProxyMetricsServer({ stat: () => stat(1, 1), text: () => '' });
  await s.listen('127.0.0.1');
  try {
    const res = await fetch(`http://127.0.0.1:${s.autometricPort}/metrics`);
    assert.equal(res.status, 406);
    const pb = await fetch(`http://127.0.0.1:${s.autometricPort}/metrics`, { headers: { accept: 'application/protobuf' } });
    assert.equal(pb.headers.get('content-type'), 'application/protobuf');
  } finally {
    await s.close();
  }
});

test("the latency window is the scraper's option (the closed loop scales it with its time factor)", async () => {
  // OpenCensus-era 9091 counters that grow by 20 requests per round: 10 ms each for three rounds, then 50 ms.
  let count = 0;
  let sumMs = 0;
  const labels = 'namespace_name="default",pod_name="p",revision_name="hello-00001",service_name="hello"';
  const page = () =>
    [
      '# TYPE revision_app_request_latencies histogram',
      `revision_app_request_latencies_sum{${labels}} ${sumMs}`,
      `revision_app_request_latencies_count{${labels}} ${count}`,
      '',
    ].join('\n');
  const pod = new QueueProxyMetricsServer({ stat: () => stat(10, 0.5), text: page });
  await pod.listen('127.0.0.1');
  let now = 1_000_000;
  const short = new QueueProxyScraper({ nowMs: () => now, windowMs: 4000 });
  const standard = new QueueProxyScraper({ nowMs: () => now });
  const target: ScrapeTarget = {
    service: 'default/hello',
    pod: 'p',
    host: '127.0.0.1',
    autometricPort: pod.autometricPort,
    usermetricPort: pod.usermetricPort,
  };
  try {
    let last: Array<Awaited<ReturnType<QueueProxyScraper['round']>>> = [];
    for (let round = 0; round <= 5; round++) {
      if (round > 0) {
        count += 20;
        sumMs += 20 * (round <= 3 ? 10 : 50);
      }
      last = [await short.round([target]), await standard.round([target])];
      now += 2000;
    }
    const [s, d] = last.map((r) => r[0]!.appLatencyMs!);
    assert.ok(Math.abs(s! - 50) < 1e-9, `4 s window: the last two rounds only (${s})`);
    assert.ok(Math.abs(d! - (3 * 10 + 2 * 50) / 5) < 1e-9, `10 s window: all five (${d})`);
  } finally {
    short.close();
    standard.close();
    await pod.close();
  }
});
