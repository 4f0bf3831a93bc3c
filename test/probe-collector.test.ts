import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { silentLogger } from '../src/log.js';
import { ModelStore } from '../src/model/store.js';
import { ProbeCollector } from '../src/probe/collector.js';
import { probeProtos, type AgentMsg, type ControlMsg, type PeerListMsg, type RttRowMsg } from '../src/probe/protocol.js';
import { startGrpc, topology, waitFor } from './probe-helpers.js';

const log = silentLogger();

/** A raw agent speaking the protocol by hand. */
function rawAgent(port: number) {
  const client = new (probeProtos().Client)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = client.Connect();
  const lists: PeerListMsg[] = [];
  call.on('data', (m: ControlMsg) => m.peers && lists.push(m.peers));
  call.on('error', () => {});
  return {
    lists,
    send: (m: AgentMsg) => call.write(m),
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

const now = () => Date.now();
const row = (over: Partial<RttRowMsg> = {}): RttRowMsg => ({
  peer: 'b',
  rtt_ms: 12,
  p90_ms: 14,
  loss_ratio: 0,
  reachable: true,
  samples: 3,
  measured_at_unix_ms: now(),
  ...over,
});

test('collector: peer lists from hellos, pushed when agents and nodes change', async () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b', 'c']));
  const collector = new ProbeCollector({ store, log, registry: new Registry(), pushDelayMs: 5, probeIntervalMs: 500 });
  const cp = await startGrpc((s) => collector.register(s));
  const a = rawAgent(cp.port);
  const b = rawAgent(cp.port);
  try {
    a.send({ hello: { node: 'a', probe_address: '10.0.0.1:8095' } });
    await waitFor('a first list', () => a.lists.length === 1);
    assert.deepEqual(a.lists[0]!.peers, []);
    assert.equal(a.lists[0]!.interval_ms, 500);
    b.send({ hello: { node: 'b', probe_address: '10.0.0.2:8095' } });
    await waitFor('b list and a push', () => b.lists.length === 1 && a.lists.length === 2);
    assert.deepEqual(b.lists[0]!.peers, [{ name: 'a', probe_address: '10.0.0.1:8095' }]);
    assert.deepEqual(a.lists[1]!.peers, [{ name: 'b', probe_address: '10.0.0.2:8095' }]);
    // A node leaving the model disappears from the lists; unrelated model changes push nothing.
    store.setMeasuredRtt('a', [{ to: 'b', rttMs: 3, reachable: true }], now());
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(a.lists.length, 2, 'no resend of an identical list');
    store.removeNode('b');
    await waitFor('a push after b left', () => a.lists.length === 3);
    assert.deepEqual(a.lists[2]!.peers, []);
  } finally {
    a.close();
    b.close();
    collector.close();
    await cp.close();
  }
});

test('collector: malformed reports are rejected with counted reasons and never change the model', async () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b', 'c']));
  const registry = new Registry();
  const collector = new ProbeCollector({ store, log, registry, maxRowsPerReport: 10 });
  const cp = await startGrpc((s) => collector.register(s));
  const a = rawAgent(cp.port);
  try {
    // A report before any hello.
    a.send({ report: { node: 'a', rows: [row()], sent_at_unix_ms: now() } });
    await waitFor('no_hello', () => collector.agents().length === 0);
    a.send({ hello: { node: 'a', probe_address: 'bad address' } });
    a.send({ hello: { node: 'a', probe_address: '127.0.0.1:1' } });
    await waitFor('hello', () => a.lists.length === 1);
    const generation = store.generation;
    a.send({ report: { node: 'b', rows: [row()], sent_at_unix_ms: now() } }); // node mismatch
    a.send({ report: { node: 'a', rows: Array.from({ length: 11 }, () => row()), sent_at_unix_ms: now() } });
    a.send({
      report: {
        node: 'a',
        sent_at_unix_ms: now(),
        rows: [
          row({ rtt_ms: -3 }),
          row({ rtt_ms: NaN }),
          row({ rtt_ms: 120_000 }),
          row({ loss_ratio: 2 }),
          row({ peer: 'ghost' }),
          row({ peer: 'a' }),
          row({ measured_at_unix_ms: now() - 60_000 }),
        ],
      },
    });
    const rejected = (reason: string) => counter(registry, 'proxima_probe_collector_rejected_total', { reason });
    const want = {
      no_hello: 1,
      bad_hello: 1,
      node_mismatch: 1,
      too_many_rows: 1,
      invalid_rtt: 3,
      invalid_loss: 1,
      unknown_peer: 1,
      self_peer: 1,
      stale: 1,
    };
    let got: Record<string, number> = {};
    const start = Date.now();
    while (Date.now() - start < 3000) {
      got = {};
      for (const r of Object.keys(want)) got[r] = await rejected(r);
      if (JSON.stringify(got) === JSON.stringify(want)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(got, want);
    assert.equal(store.generation, generation, 'the model did not change');
    assert.equal(store.measured('a', 'b', now()), undefined);
    assert.equal(await counter(registry, 'proxima_probe_collector_reports_total', { outcome: 'rejected' }), 3);

    // A good row after all that is accepted.
    a.send({ report: { node: 'a', rows: [row({ rtt_ms: 7 })], sent_at_unix_ms: now() } });
    await waitFor('good row', () => store.measured('a', 'b', now())?.rttMs === 7);
    assert.equal(store.rttMs('a', 'b', now()), 7);
  } finally {
    a.close();
    collector.close();
    await cp.close();
  }
});

test('collector: rows keep their age, so an old measurement expires on time', async () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b', 'c']));
  store.measuredRttTtlMs = 10_000;
  const collector = new ProbeCollector({ store, log, registry: new Registry() });
  const cp = await startGrpc((s) => collector.register(s));
  const a = rawAgent(cp.port);
  try {
    a.send({ hello: { node: 'a', probe_address: '127.0.0.1:1' } });
    const agentClock = 1_000_000; // an agent whose clock is far off: only differences count
    a.send({
      report: {
        node: 'a',
        sent_at_unix_ms: agentClock,
        rows: [row({ measured_at_unix_ms: agentClock - 8000 }), row({ peer: 'c', rtt_ms: 40, measured_at_unix_ms: agentClock })],
      },
    });
    await waitFor('rows', () => store.measured('a', 'c', now()) !== undefined);
    const t = now();
    assert.ok(store.measured('a', 'b', t + 2500) === undefined, '8 s old row expires ~2 s later');
    assert.ok(store.measured('a', 'c', t + 2500) !== undefined);
  } finally {
    a.close();
    collector.close();
    await cp.close();
  }
});
