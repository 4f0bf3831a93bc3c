import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { silentLogger } from '../src/log.js';
import { ModelStore } from '../src/model/store.js';
import { LoadReportingServer } from '../src/lrs/server.js';
import { envoyProtos, grpcLookup } from '../src/protos/envoy.js';
import { startGrpc, topology, waitFor } from './probe-helpers.js';

const log = silentLogger();

interface LrsResponse {
  send_all_clusters?: boolean;
  clusters?: string[];
  load_reporting_interval?: { seconds?: string; nanos?: number };
}

/** A raw LRS client (plain @grpc/grpc-js with Envoy's protos), speaking like Envoy would. */
function rawLrs(port: number) {
  const Ctor = grpcLookup<grpc.ServiceClientConstructor>(envoyProtos().grpc, 'envoy.service.load_stats.v3.LoadReportingService');
  const client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (client as unknown as { StreamLoadStats(): grpc.ClientDuplexStream<unknown, LrsResponse> }).StreamLoadStats();
  const responses: LrsResponse[] = [];
  let status: grpc.StatusObject | undefined;
  call.on('data', (r: LrsResponse) => responses.push(r));
  call.on('status', (s: grpc.StatusObject) => (status = s));
  call.on('error', () => {});
  return {
    responses,
    status: () => status,
    send: (m: unknown) => call.write(m),
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

const stats = (
  service: string,
  seconds: number,
  locs: Array<{ node: string; issued: number | string; ok?: number | string; err?: number; inProgress?: number }>,
) => ({
  cluster_name: service,
  load_report_interval: { seconds, nanos: 0 },
  upstream_locality_stats: locs.map((l) => ({
    locality: { region: 'r', zone: `z-${l.node}`, sub_zone: l.node },
    total_issued_requests: l.issued,
    total_successful_requests: l.ok ?? l.issued,
    total_error_requests: l.err ?? 0,
    total_requests_in_progress: l.inProgress ?? 0,
  })),
});

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

async function setup(reportingIntervalMs = 1000) {
  const store = new ModelStore();
  store.replaceTopology(
    topology(
      ['a', 'b', 'c'],
      [
        { from: 'a', to: 'b', rttMs: 5 },
        { from: 'a', to: 'c', rttMs: 40 },
      ],
    ),
  );
  const registry = new Registry();
  const lrs = new LoadReportingServer({ store, log, registry, reportingIntervalMs, priorCompletions: 0 });
  const cp = await startGrpc((s) => lrs.register(s));
  return { store, registry, lrs, cp, close: async () => (lrs.close(), await cp.close()) };
}

test('LRS: asks for all clusters at the configured interval; learns demand and service time', async () => {
  const { store, registry, cp, close } = await setup(1500);
  const gw = rawLrs(cp.port);
  try {
    gw.send({ node: { id: 'gateway-pod-1', locality: { sub_zone: 'a' } }, cluster_stats: [] });
    await waitFor('LRS response', () => gw.responses.length === 1);
    assert.equal(gw.responses[0]!.send_all_clusters, true);
    assert.equal(
      Number(gw.responses[0]!.load_reporting_interval!.seconds) * 1000 + (gw.responses[0]!.load_reporting_interval!.nanos ?? 0) / 1e6,
      1500,
    );
    // Twice 4 s: 320 requests to b (3 in flight on average), 80 to c (2 in flight): 100 rps at
    // gateway a (enough completions per node for their response times to be used; the first report
    // of a flow may cover only part of its interval, so Little's law waits for the second).
    const steadyReport = {
      cluster_stats: [
        stats('default/hello', 4, [
          { node: 'b', issued: 320, inProgress: 3 },
          { node: 'c', issued: 80, inProgress: 2 },
        ]),
      ],
    };
    gw.send(steadyReport);
    await waitFor('demand', () => store.demandRps('a', 'default/hello') !== undefined);
    assert.equal(store.demandRps('a', 'default/hello'), 100);
    gw.send(steadyReport);
    await waitFor('service time', () => store.serviceTimeMs('default/hello', 'c') !== undefined);
    // Little: b: 3 / 80 rps = 37.5 ms − RTT 5 = 32.5; c: 2 / 20 rps = 100 ms − 40 = 60.
    assert.equal(store.serviceTimeMs('default/hello', 'b'), 32.5);
    assert.equal(store.serviceTimeMs('default/hello', 'c'), 60);
    assert.equal(await counter(registry, 'proxima_lrs_streams'), 1);
    // A gateway identified by node id only (no sub_zone) adds its own demand.
    const gw2 = rawLrs(cp.port);
    gw2.send({ node: { id: 'b' }, cluster_stats: [stats('default/hello', 1, [{ node: 'b', issued: 30 }])] });
    await waitFor('second gateway', () => store.demandRps('b', 'default/hello') === 30);
    gw2.close();
    await waitFor('gateway b gone', () => store.demandRps('b', 'default/hello') === undefined);
    assert.equal(store.demandRps('a', 'default/hello'), 100);
  } finally {
    gw.close();
    await close();
  }
});

test('LRS: bad stats (unknown cluster, negative counts, absurd values, zero interval) are counted and leave the model unchanged', async () => {
  const { store, registry, cp, close } = await setup();
  const gw = rawLrs(cp.port);
  try {
    gw.send({ node: { id: 'gw', locality: { sub_zone: 'a' } } });
    await waitFor('response', () => gw.responses.length === 1);
    const generation = store.generation;
    gw.send({
      cluster_stats: [
        stats('default/unknown', 1, [{ node: 'b', issued: 10 }]),
        stats('default/hello', 1, [{ node: 'b', issued: '18446744073709551615' }]), // -1 as uint64
        stats('default/hello', 1, [{ node: 'b', issued: '900000000' }]), // 9e8 rps
        stats('default/hello', 0, [{ node: 'b', issued: 10 }]),
      ],
    });
    const want = { unknown_cluster: 1, negative_count: 1, absurd_value: 1, zero_interval: 1 };
    let got: Record<string, number> = {};
    const start = Date.now();
    while (Date.now() - start < 3000) {
      got = {};
      for (const r of Object.keys(want)) got[r] = await counter(registry, 'proxima_lrs_rejected_total', { reason: r });
      if (JSON.stringify(got) === JSON.stringify(want)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(got, want);
    assert.equal(await counter(registry, 'proxima_lrs_cluster_stats_total', { outcome: 'rejected' }), 4);
    assert.equal(store.generation, generation, 'model unchanged');
    assert.equal(store.demandRps('a', 'default/hello'), undefined);

    // A first request without a node: the stream is refused, counted.
    const anon = rawLrs(cp.port);
    anon.send({ cluster_stats: [] });
    await waitFor('anonymous stream closed', () => anon.status() !== undefined);
    assert.notEqual(anon.status()!.code, grpc.status.OK);
    assert.equal(await counter(registry, 'proxima_lrs_rejected_total', { reason: 'no_node' }), 1);
    anon.close();
  } finally {
    gw.close();
    await close();
  }
});
