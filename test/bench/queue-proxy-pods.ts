/**
 * Child process of queue-proxy-scrape.bench.ts: `node queue-proxy-pods.js N` starts N emulated
 * queue-proxies on loopback (9090-style protobuf Stat + 9091-style OpenCensus text, each with a
 * meter that has served requests, so the pages have their real size), prints their ports as JSON
 * on stdout and keeps serving until stdin closes. Separate so the scraper's CPU is measured alone.
 */
import { QueueProxyMeter } from '../../src/emulator/queue-proxy-meter.js';
import { QueueProxyMetricsServer } from '../../src/emulator/queue-proxy-server.js';

const n = Number(process.argv[2] ?? '200');
const servers: QueueProxyMetricsServer[] = [];
const ports: Array<{ pod: string; service: string; autometricPort: number; usermetricPort: number }> = [];
const t0 = Date.now();
for (let i = 0; i < n; i++) {
  const service = `fn-${i % 20}`;
  const meter = new QueueProxyMeter(
    { namespace: 'default', service, revision: `${service}-00001`, pod: `${service}-00001-deployment-${i}` },
    t0,
  );
  // Requests spread over the latency buckets, so every bucket line carries a multi-digit count.
  for (let k = 0; k < 5000; k++) {
    meter.arrived(t0);
    meter.started(t0);
    meter.finished(t0, 1 + ((k * 37) % 2500), 1 + ((k * 29) % 2000));
  }
  const s = new QueueProxyMetricsServer({ stat: () => meter.stat(Date.now()), text: () => meter.text() });
  await s.listen('127.0.0.1');
  servers.push(s);
  ports.push({ pod: `pod-${i}`, service: `default/${service}`, autometricPort: s.autometricPort, usermetricPort: s.usermetricPort });
}
process.stdout.write(JSON.stringify(ports) + '\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(servers.map((s) => s.close())).then(() => process.exit(0));
});
