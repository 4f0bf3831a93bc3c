/**
 * The attacks of issue 15, each repeated against a real `proxima serve` on loopback, with the
 * bound asserted: the refusal is counted, honest gateways' assignments are unchanged, and the heap
 * after the attack (after a full GC) is within a stated margin of the heap before it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { startServe, type ServeHandle } from '../src/cli/serve.js';
import { fixture } from '../src/extender/testing.js';
import { createLogger, silentLogger } from '../src/log.js';
import { probeProtos } from '../src/probe/protocol.js';
import { nodeId, requireOpenssl } from './helpers/certs.js';
import { startSecurePlane } from './helpers/secure-plane.js';
import { testServeOptions } from './helpers/serve-options.js';
import { RawClient, TypeUrl, metricValue, node, sleep } from './xds-protocol-client.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in MiB after two full collections. */
async function heapMiB(): Promise<number> {
  for (let i = 0; i < 2; i++) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed / 2 ** 20;
}
/** Heap growth tolerated across an attack (the attack's own buffers are gone by then). */
const HEAP_MARGIN_MIB = 8;

/** Localities (node, priority, weight) per service and gateway node, from /debug/assignments. */
async function assignments(h: ServeHandle): Promise<unknown> {
  const r = (await (await fetch(`http://${h.addresses.admin}/debug/assignments`)).json()) as {
    services: Record<string, { gateways: Record<string, { localities: Array<{ node: string; priority: number; weight: number }> }> }>;
  };
  const out: Record<string, Record<string, string[]>> = {};
  for (const [service, s] of Object.entries(r.services))
    for (const [gateway, g] of Object.entries(s.gateways))
      (out[service] ??= {})[gateway] = g.localities.map((l) => `${l.node}/${l.priority}/${l.weight}`);
  return out;
}

async function seriesOf(h: ServeHandle, name: string): Promise<number> {
  const text = await (await fetch(`http://${h.addresses.admin}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`)).length;
}

const lrsReport = (cluster: string, locality: string, n: number) => ({
  cluster_stats: [
    {
      cluster_name: cluster,
      load_report_interval: { seconds: 1 },
      upstream_locality_stats: [
        { locality: { sub_zone: locality }, total_successful_requests: n, total_issued_requests: n, total_requests_in_progress: 1 },
      ],
    },
  ],
});

test('forged reports from another node’s certificate (LRS at 2,000 rps, probe hello and report) are refused and counted; assignments unchanged', async (t) => {
  if (!requireOpenssl(t)) return;
  const p = await startSecurePlane({ policy: 'proxima' });
  try {
    const before = await assignments(p.serve);
    const heap0 = await heapMiB();
    const edge1 = p.ca.issue('edge-1', { uri: [nodeId('edge-1')] });
    const ATTEMPTS = 40;
    const attacker = p.client(edge1);
    for (let i = 0; i < ATTEMPTS; i++) {
      const lrs = attacker.lrs();
      lrs.send({ node: node('gw', 'edge-2'), ...lrsReport('default/hello', 'edge-2', 2000) });
      assert.equal(((await lrs.ended(5000)) as grpc.ServiceError).code, grpc.status.PERMISSION_DENIED);
    }
    const creds = grpc.credentials.createSsl(p.ca.cert, edge1.key, edge1.cert);
    const probeClient = new (probeProtos().Client)(p.xds, creds, { 'grpc.ssl_target_name_override': 'localhost' });
    for (let i = 0; i < ATTEMPTS; i++) {
      const call = probeClient.Connect();
      const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
      call.write({ hello: { node: 'cloud-1', probe_address: '127.0.0.1:1' } });
      call.write({
        report: {
          node: 'cloud-1',
          sent_at_unix_ms: Date.now(),
          rows: [{ peer: 'edge-1', reachable: false, measured_at_unix_ms: Date.now() }],
        },
      });
      assert.equal((await ended).code, grpc.status.PERMISSION_DENIED);
    }
    probeClient.close();
    await sleep(200);
    assert.equal(await metricValue(p.registry, 'proxima_peer_refused_total', { channel: 'lrs', reason: 'node_mismatch' }), ATTEMPTS);
    assert.equal(await metricValue(p.registry, 'proxima_peer_refused_total', { channel: 'probe', reason: 'node_mismatch' }), ATTEMPTS);
    assert.equal(await metricValue(p.registry, 'proxima_probe_collector_rows_total'), 0, 'no forged RTT row reached the model');
    assert.deepEqual(await assignments(p.serve), before, 'honest gateways keep their assignments');
    const heap1 = await heapMiB();
    t.diagnostic(`heap before ${heap0.toFixed(1)} MiB, after ${heap1.toFixed(1)} MiB (margin ${HEAP_MARGIN_MIB})`);
    assert.ok(heap1 - heap0 < HEAP_MARGIN_MIB);
  } finally {
    await p.close();
  }
});

test('30 LRS streams with 1 MB locality names: names not kept, /metrics stays small, heap returns; too many localities refused', async (t) => {
  const registry = new Registry();
  const h = await startServe(testServeOptions({ policy: 'proxima' }), silentLogger(), registry);
  const client = new RawClient(h.addresses.xds);
  try {
    const before = await assignments(h);
    const metricsBefore = (await (await fetch(`http://${h.addresses.admin}/metrics`)).text()).length;
    const heap0 = await heapMiB();
    const STREAMS = 30;
    const streams = [];
    for (let i = 0; i < STREAMS; i++) {
      const s = client.lrs();
      s.send({ node: node(`attacker-${i}`), ...lrsReport('default/hello', `${i}`.padEnd(1 << 20, 'x'), 100) });
      await s.next(5000);
      streams.push(s);
    }
    const many = client.lrs();
    many.send({
      node: node('attacker-many'),
      cluster_stats: [
        {
          ...lrsReport('default/hello', 'edge-1', 1).cluster_stats[0],
          upstream_locality_stats: Array.from({ length: 1025 }, () => ({ locality: { sub_zone: 'edge-1' } })),
        },
      ],
    });
    await many.next(5000);
    await sleep(300);
    assert.equal(await metricValue(registry, 'proxima_lrs_rejected_total', { reason: 'unknown_locality' }), STREAMS);
    assert.equal(await metricValue(registry, 'proxima_lrs_rejected_total', { reason: 'too_many_localities' }), 1);
    const metricsDuring = (await (await fetch(`http://${h.addresses.admin}/metrics`)).text()).length;
    t.diagnostic(`/metrics ${metricsBefore} bytes before, ${metricsDuring} with ${STREAMS} streams open`);
    assert.ok(metricsDuring - metricsBefore < 16_384, 'no 1 MB label reached /metrics');
    for (const s of [...streams, many]) s.close();
    await sleep(300);
    assert.deepEqual(await assignments(h), before, 'demand of unknown gateways steers nothing');
    const heap1 = await heapMiB();
    t.diagnostic(`heap before ${heap0.toFixed(1)} MiB, after ${heap1.toFixed(1)} MiB (margin ${HEAP_MARGIN_MIB})`);
    assert.ok(heap1 - heap0 < HEAP_MARGIN_MIB);
  } finally {
    client.close();
    await h.close();
  }
});

test('200k resource names in one request and a 1 MB node id are refused, counted, and log bounded lines', async (t) => {
  const registry = new Registry();
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ level: 'debug', destination: sink });
  const h = await startServe(testServeOptions({ policy: 'proxima', limits: { maxMessageBytes: 8 << 20 } }), log, registry);
  const client = new RawClient(h.addresses.xds, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 16 << 20 });
  try {
    const heap0 = await heapMiB();
    const ads = client.ads();
    ads.send({
      node: node('gw', 'edge-1'),
      type_url: TypeUrl.ClusterLoadAssignment,
      resource_names: Array.from({ length: 200_000 }, (_, i) => `default/f${i}`),
    });
    const end = (await ads.ended(10_000)) as grpc.ServiceError;
    assert.equal(end.code, grpc.status.RESOURCE_EXHAUSTED, end.details);
    assert.equal(await metricValue(registry, 'proxima_xds_malformed_requests_total', { reason: 'too_many_names' }), 1);
    const huge = 'n'.padEnd(1 << 20, 'x');
    for (let i = 0; i < 5; i++) {
      const s = client.ads();
      s.send({ node: node(huge), type_url: TypeUrl.Cluster });
      assert.equal(((await s.ended(5000)) as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
      const l = client.lrs();
      l.send({ node: node(huge) });
      assert.equal(((await l.ended(5000)) as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
    }
    assert.equal(await metricValue(registry, 'proxima_xds_malformed_requests_total', { reason: 'name_too_long' }), 5);
    assert.equal(await metricValue(registry, 'proxima_lrs_rejected_total', { reason: 'name_too_long' }), 5);
    const longest = Math.max(...lines.map((l) => l.length));
    t.diagnostic(`${lines.length} log lines, longest ${longest} chars`);
    assert.ok(longest < 4096, `a log line of ${longest} chars`);
    const heap1 = await heapMiB();
    t.diagnostic(`heap before ${heap0.toFixed(1)} MiB, after ${heap1.toFixed(1)} MiB (margin ${HEAP_MARGIN_MIB})`);
    assert.ok(heap1 - heap0 < HEAP_MARGIN_MIB);
  } finally {
    client.close();
    await h.close();
  }
});

test('2,000 distinct node ids: LRS series stay bounded by known nodes, unknown probe agents are kept in a bounded LRU', async (t) => {
  const registry = new Registry();
  const h = await startServe(testServeOptions({ policy: 'proxima', limits: { maxTrackedIds: 100 } }), silentLogger(), registry);
  const client = new RawClient(h.addresses.xds);
  const probeClient = new (probeProtos().Client)(h.addresses.xds, grpc.credentials.createInsecure());
  try {
    const before = await assignments(h);
    const heap0 = await heapMiB();
    const IDS = 2000;
    // Batches of 25 keep each connection under its 100 concurrent streams while cancelled ones drain.
    for (let i = 0; i < IDS; i += 25) {
      const batch = Array.from({ length: 25 }, (_, j) => {
        const s = client.lrs();
        s.send({ node: node(`ghost-${i + j}`), ...lrsReport('default/hello', 'edge-1', 10) });
        const call = probeClient.Connect();
        call.on('error', () => undefined);
        call.resume(); // read the peer list, or the finished call stays buffered on this side
        call.write({ hello: { node: `ghost-${i + j}`, probe_address: `127.0.0.2:${1000 + ((i + j) % 60000)}` } });
        return { s, call };
      });
      await Promise.all(batch.map((b) => b.s.next(5000)));
      // Half-close rather than cancel: 2,000 RST_STREAMs on one connection trip nghttp2's rapid-reset
      // limit, which ends the whole connection (a bound too, but not the one this test is about).
      for (const b of batch) {
        b.s.call.end();
        b.call.end();
      }
      await sleep(5);
    }
    await sleep(300);
    const series = await seriesOf(h, 'proxima_lrs_requests_total');
    t.diagnostic(`${IDS} node ids → ${series} series of proxima_lrs_requests_total`);
    assert.ok(series <= 1, 'all ghosts share the (unknown) gateway label');
    // Most hellos arrive before their stream is cancelled; every one that did was counted.
    const hellos = await metricValue(registry, 'proxima_probe_collector_rejected_total', { reason: 'unknown_node' });
    const waiting = await metricValue(registry, 'proxima_probe_collector_waiting_agents');
    t.diagnostic(`${hellos} ghost hellos counted, ${waiting} remembered (LRU of 100)`);
    assert.ok(hellos > IDS / 2);
    assert.equal(waiting, 100);
    const agents = (await (await fetch(`http://${h.addresses.admin}/debug/probes`)).json()) as unknown[];
    assert.equal(agents.length, 0, 'ghost agents are not listed and never reach a peer list');
    assert.deepEqual(await assignments(h), before);
    const heap1 = await heapMiB();
    t.diagnostic(`heap before ${heap0.toFixed(1)} MiB, after ${heap1.toFixed(1)} MiB (margin ${HEAP_MARGIN_MIB})`);
    assert.ok(heap1 - heap0 < HEAP_MARGIN_MIB);
  } finally {
    probeClient.close();
    client.close();
    await h.close();
  }
});

test('connections per peer, /debug pages and pending placements are capped and counted', async () => {
  const registry = new Registry();
  const h = await startServe(
    testServeOptions({ limits: { maxConnectionsPerPeer: 4, maxDebugItems: 5, maxPendingPlacements: 20 } }),
    silentLogger(),
    registry,
  );
  const client = new RawClient(h.addresses.xds);
  try {
    // 10 raw TCP connections from one address: 4 stay open, 6 are closed at accept.
    const port = Number(h.addresses.xds.slice(h.addresses.xds.lastIndexOf(':') + 1));
    const sockets = Array.from({ length: 10 }, () => connect(port, '127.0.0.1'));
    const closed = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((resolve) => {
            s.on('close', () => resolve(true));
            s.on('error', () => undefined);
            setTimeout(() => resolve(false), 500);
          }),
      ),
    );
    assert.equal(closed.filter(Boolean).length, 6);
    assert.equal(await metricValue(registry, 'proxima_connections_refused_total', { listener: 'xds', reason: 'per_peer' }), 6);
    for (const s of sockets) s.destroy();
    await sleep(100);

    // 12 xDS streams: /debug/clients answers 5 per page and says how many there are.
    const streams = Array.from({ length: 12 }, (_, i) => {
      const s = client.ads();
      s.send({ node: node(`gw-${i}`, 'edge-1'), type_url: TypeUrl.Cluster });
      return s;
    });
    await Promise.all(streams.map((s) => s.next(5000)));
    const page = await fetch(`http://${h.addresses.admin}/debug/clients`);
    assert.equal(((await page.json()) as unknown[]).length, 5);
    assert.equal(page.headers.get('x-total-count'), '12');
    assert.match(page.headers.get('link') ?? '', /offset=5>; rel="next"/);
    const last = await fetch(`http://${h.addresses.admin}/debug/clients?offset=10`);
    assert.equal(((await last.json()) as unknown[]).length, 2);

    // 300 /prioritize for distinct pods: 20 pending placements kept, the rest counted as refused.
    const ext = h.addresses.extender;
    const args = JSON.parse(fixture('args-knative-nodenames.json')) as {
      Pod: { metadata: { uid?: string; name?: string; labels: Record<string, string> } };
      NodeNames: string[];
    };
    args.Pod.metadata.labels['serving.knative.dev/service'] = 'hello';
    args.NodeNames = ['edge-1', 'edge-2', 'cloud-1'];
    for (let i = 0; i < 300; i++) {
      args.Pod.metadata.uid = `uid-${i}`;
      args.Pod.metadata.name = `pod-${i}`;
      const r = await fetch(`http://${ext}/prioritize`, {
        method: 'POST',
        body: JSON.stringify(args),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    }
    assert.equal(await metricValue(registry, 'proxima_extender_placements_pending'), 20);
    assert.equal(await metricValue(registry, 'proxima_extender_placements_total', { result: 'refused' }), 280);
  } finally {
    client.close();
    await h.close();
  }
});
