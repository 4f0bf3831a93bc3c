import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { silentLogger } from '../src/log.js';
import { ModelStore } from '../src/model/store.js';
import { ProbeCollector } from '../src/probe/collector.js';
import { ProbeAgent } from '../src/probe/agent.js';
import { probeProtos, type AgentMsg, type ControlMsg, type ScrapeTargetsMsg } from '../src/probe/protocol.js';
import { QueueProxyMeter } from '../src/emulator/queue-proxy-meter.js';
import { QueueProxyMetricsServer } from '../src/emulator/queue-proxy-server.js';
import { nodeServiceInput, policyInputFor } from '../src/engine/policy-input.js';
import { faastPolicy } from '../src/policy/faast.js';
import { proximaPolicy } from '../src/policy/proxima.js';
import { serviceInputsView } from '../src/admin/debug-views.js';
import { startGrpc, topology, waitFor } from './probe-helpers.js';

const log = silentLogger();

function rawAgent(port: number) {
  const client = new (probeProtos().Client)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = client.Connect();
  const targets: ScrapeTargetsMsg[] = [];
  call.on('data', (m: ControlMsg) => m.scrape_targets && targets.push(m.scrape_targets));
  call.on('error', () => {});
  return {
    targets,
    send: (m: AgentMsg) => call.write(m),
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

test("agent → control plane: pods scraped on the agent's node become the policy's per-node service time, with source and age", async () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b', 'c']));
  const registry = new Registry();
  const collector = new ProbeCollector({ store, log, registry, pushDelayMs: 5 });
  const cp = await startGrpc((s) => collector.register(s));
  // Two emulated pods on node b: the user container takes 20 ms, the queue-proxy queue adds 10 ms on one.
  const t0 = Date.now();
  const meters = [0, 1].map(
    (i) => new QueueProxyMeter({ namespace: 'default', service: 'hello', revision: 'hello-00001', pod: `hello-${i}` }, t0),
  );
  const servers = meters.map((m) => new QueueProxyMetricsServer({ stat: () => m.stat(Date.now()), text: () => m.text() }));
  for (const s of servers) await s.listen('127.0.0.1');
  const traffic = setInterval(() => {
    const now = Date.now();
    meters.forEach((m, i) => {
      for (let k = 0; k < 5; k++) {
        m.arrived(now);
        m.started(now);
        m.finished(now, 20 + i * 10, 20);
      }
    });
  }, 50);
  const agent = new ProbeAgent({
    node: 'b',
    controlPlane: `127.0.0.1:${cp.port}`,
    listen: { host: '127.0.0.1', port: 0 },
    intervalMs: 1000,
    timeoutMs: 500,
    maxPeers: 4,
    nearRttMs: 10,
    log,
    registry: new Registry(),
    queueProxy: {
      intervalMs: 200,
      timeoutMs: 200,
      concurrency: 4,
      targets: servers.map((s, i) => ({
        service: 'default/hello',
        pod: `hello-${i}`,
        host: '127.0.0.1',
        autometricPort: s.autometricPort,
        usermetricPort: s.usermetricPort,
      })),
    },
  });
  try {
    const before = nodeServiceInput(store, 'default/hello', 'b', Date.now());
    assert.equal(before.serviceTimeSource, 'default');
    await agent.start();
    await waitFor('a pod signal for b', () => store.podSignal('default/hello', 'b', Date.now())?.appLatencyMs !== undefined, 8000);
    const sig = store.podSignal('default/hello', 'b', Date.now())!;
    assert.equal(sig.pods, 2);
    assert.equal(sig.podsFailed, 0);
    assert.ok(Math.abs(sig.appLatencyMs! - 20) < 0.01, `app ${sig.appLatencyMs}`);
    assert.ok(Math.abs(sig.requestLatencyMs! - 25) < 0.01, `request ${sig.requestLatencyMs}`);
    assert.ok(sig.requestRps > 100 && sig.requestRps < 260, `rps ${sig.requestRps}`);
    assert.equal(sig.latencySource, 'usermetric');
    const input = nodeServiceInput(store, 'default/hello', 'b', Date.now());
    // The pods' app latency is the pure service time; the queue wait (request − app) rides beside it
    // with the rate it was seen at, for the policy to calibrate its queueing model.
    assert.equal(input.serviceTimeSource, 'queue-proxy app latency');
    assert.ok(Math.abs(input.serviceTimeMs - 20) < 0.01);
    assert.equal(input.loadRps, undefined, 'a pure service time: nothing to de-queue');
    assert.ok(sig.windowRequestRps! > 100 && sig.windowRequestRps! < 260, `window rps ${sig.windowRequestRps}`);
    assert.ok(Math.abs(input.queueWait!.waitMs - 5) < 0.01, `wait ${input.queueWait?.waitMs}`);
    assert.equal(input.queueWait!.rps, sig.windowRequestRps, 'the rate the wait was seen at');
    assert.equal(input.faastSource, 'queue-proxy 10 s request latency');
    assert.ok(Math.abs(input.faastLatencyMs! - 25) < 0.01, "FaaSt: mean of the pods' 10 s latencies (20 and 30)");
    assert.ok(input.ageMs! >= 0 && input.ageMs! < 2000);
    // /debug/assignments shows each node's inputs with their source and age.
    const view = serviceInputsView(store, 'default/hello', Date.now()) as Record<string, Record<string, unknown>>;
    assert.equal(view['b']!['serviceTimeSource'], 'queue-proxy app latency');
    assert.equal(view['b']!['queueWaitMs'], 5);
    assert.equal(view['b']!['faastSource'], 'queue-proxy 10 s request latency');
    // With the policy: what its model made of the inputs (the service time it plans with).
    const withModel = serviceInputsView(store, 'default/hello', Date.now(), proximaPolicy) as Record<string, Record<string, unknown>>;
    assert.equal((withModel['b']!['model'] as { serviceTimeMs: number }).serviceTimeMs, 20);
    assert.equal(typeof view['b']!['ageMs'], 'number');
    assert.equal((view['b']!['podSignal'] as Record<string, unknown>)['pods'], 2);
    assert.equal(view['c']!['serviceTimeSource'], 'default');
    assert.equal(view['c']!['podSignal'], null);
    // Node c has pods in the model but no agent reports: it stays on the fallback, marked as such.
    assert.equal(nodeServiceInput(store, 'default/hello', 'c', Date.now()).serviceTimeSource, 'default');
    // faast's weights follow r = RTT + P: b 50 + 25 = 75 ms, c 50 + 10 (default) = 60 ms from gateway a.
    const a = faastPolicy.assign(policyInputFor(store, 'default/hello', ['a'], Date.now())).get('a')!;
    const w = Object.fromEntries(a.localities.map((l) => [l.node, l.weight]));
    assert.ok(Math.abs(w['b']! / (w['b']! + w['c']!) - 60 / 135) < 0.01, JSON.stringify(w));
  } finally {
    clearInterval(traffic);
    await agent.close();
    for (const s of servers) await s.close();
    collector.close();
    await cp.close();
  }
});

test("control plane: each agent gets only its node's pods as scrape targets (Knative ports), and bad signal rows are counted, not stored", async () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b', 'c']));
  const registry = new Registry();
  const collector = new ProbeCollector({ store, log, registry, pushDelayMs: 5 });
  const cp = await startGrpc((s) => collector.register(s));
  const b = rawAgent(cp.port);
  try {
    b.send({ hello: { node: 'b', probe_address: '10.0.0.2:8095' } });
    await waitFor('targets for b', () => b.targets.length === 1);
    assert.deepEqual(b.targets[0]!.targets, [
      { service: 'default/hello', pod: '127.0.0.1:9001', host: '127.0.0.1', autometric_port: 9090, usermetric_port: 9091 },
    ]);
    const now = Date.now();
    const good = {
      service: 'default/hello',
      pods: 1,
      request_rps: 10,
      concurrency: 0.3,
      request_latency_ms: 30,
      app_latency_ms: 25,
      latency_source: 'usermetric',
      measured_at_unix_ms: now,
    };
    b.send({
      report: {
        node: 'b',
        rows: [],
        sent_at_unix_ms: now,
        pod_signals: [
          { ...good, service: 'default/nope' },
          { ...good, request_latency_ms: NaN },
          { ...good, request_rps: -1 },
          { ...good, latency_source: 'guess' },
          { ...good, measured_at_unix_ms: now - 60_000 },
          good,
        ],
      },
    });
    await waitFor('the good row', () => store.podSignal('default/hello', 'b', Date.now()) !== undefined);
    assert.equal(store.podSignal('default/hello', 'b', Date.now())!.appLatencyMs, 25);
    const rejected = (await registry.getSingleMetric('proxima_probe_collector_rejected_total')!.get()).values;
    const n = (reason: string) => rejected.find((v) => v.labels['reason'] === reason)?.value ?? 0;
    assert.equal(n('pod_signal_unknown_service'), 1);
    assert.equal(n('pod_signal_invalid_signal'), 3);
    assert.equal(n('pod_signal_stale'), 1);
    // A new pod on b: a new target list follows.
    const t = topology(['a', 'b', 'c']);
    const svc = t.services[0]!;
    store.replaceTopology({
      ...t,
      services: [{ ...svc, endpoints: [...svc.endpoints, { address: '10.1.0.7', port: 8012, node: 'b', ready: true, capacity: 10 }] }],
    });
    await waitFor('second target list', () => b.targets.length === 2, 5000);
    assert.equal(b.targets[1]!.targets!.length, 2);
  } finally {
    b.close();
    collector.close();
    await cp.close();
  }
});

test('pod signals: an idle round keeps the last measured latency (with its age); a silent agent falls back to LRS, marked', () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b']));
  store.setPodSignal('default/hello', 'b', {
    pods: 1,
    podsFailed: 0,
    requestRps: 10,
    concurrency: 0.3,
    queueDepth: 0,
    requestLatencyMs: 30,
    appLatencyMs: 22,
    atMs: 1000,
  });
  store.setPodSignal('default/hello', 'b', { pods: 1, podsFailed: 0, requestRps: 0, concurrency: 0, queueDepth: 0, atMs: 3000 });
  const i = nodeServiceInput(store, 'default/hello', 'b', 3500);
  assert.equal(i.serviceTimeMs, 22);
  assert.equal(i.serviceTimeSource, 'queue-proxy app latency');
  assert.equal(i.ageMs, 2500);
  store.setServiceTime('default/hello', new Map([['b', 18]]), new Map([['b', 5]]));
  const late = nodeServiceInput(store, 'default/hello', 'b', 3000 + store.podSignals.ttlMs + 1);
  assert.equal(late.serviceTimeSource, 'lrs estimate');
  assert.equal(late.serviceTimeMs, 18);
  assert.equal(late.loadRps, 5);
});

test('pod signals: with only the app latency (no request histogram), it is used as a pure service time', () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b']));
  store.setPodSignal('default/hello', 'b', {
    pods: 1,
    podsFailed: 0,
    requestRps: 10,
    concurrency: 0.3,
    queueDepth: 0,
    appLatencyMs: 21,
    atMs: 1000,
  });
  const i = nodeServiceInput(store, 'default/hello', 'b', 1500);
  assert.equal(i.serviceTimeSource, 'queue-proxy app latency');
  assert.equal(i.serviceTimeMs, 21);
  assert.equal(i.loadRps, undefined);
  assert.equal(i.queueWait, undefined, 'no request latency: no queue wait to calibrate on');
});

test('pod signals: with only the request latency (no app histogram), the policy gets it with its rate to take the queueing out', () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b']));
  store.setPodSignal('default/hello', 'b', {
    pods: 1,
    podsFailed: 0,
    requestRps: 10,
    concurrency: 0.3,
    queueDepth: 0,
    requestLatencyMs: 30,
    windowRequestRps: 12,
    atMs: 1000,
  });
  const i = nodeServiceInput(store, 'default/hello', 'b', 1500);
  assert.equal(i.serviceTimeSource, 'queue-proxy request latency');
  assert.equal(i.serviceTimeMs, 30);
  assert.equal(i.loadRps, 12);
});
