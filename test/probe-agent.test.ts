import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { silentLogger } from '../src/log.js';
import { ModelStore } from '../src/model/store.js';
import { AssignmentEngine } from '../src/engine/assignments.js';
import { nearestPolicy } from '../src/policy/nearest.js';
import { ProbeAgent, type ProbeAgentOptions } from '../src/probe/agent.js';
import { ProbeCollector } from '../src/probe/collector.js';
import { DEFAULT_PEER_ESTIMATOR_OPTIONS, Ewma } from '../src/probe/estimator.js';
import { delayedProbeServer, delayProxy, startGrpc, topology, waitFor } from './probe-helpers.js';

const log = silentLogger();
const LOOPBACK = { host: '127.0.0.1', port: 0 };

function agent(node: string, over: Partial<ProbeAgentOptions> = {}): ProbeAgent {
  return new ProbeAgent({
    node,
    listen: LOOPBACK,
    intervalMs: 150,
    timeoutMs: 140,
    maxPeers: 8,
    nearRttMs: 10,
    backoff: { baseMs: 50, maxMs: 400 },
    log,
    registry: new Registry(),
    ...over,
  });
}

test('RTT estimates converge to delays injected by a slow probe endpoint', async () => {
  const fast = await delayedProbeServer(0);
  const slow = await delayedProbeServer(40);
  const a = agent('a', {
    staticPeers: [
      { name: 'fast', probe_address: `127.0.0.1:${fast.port}` },
      { name: 'slow', probe_address: `127.0.0.1:${slow.port}` },
    ],
  });
  try {
    await a.start();
    await waitFor('12 rounds', () => a.roundCount >= 12, 5000);
    const f = a.estimate('fast')!;
    const s = a.estimate('slow')!;
    assert.ok(s.rttMs! >= 39, `slow peer ${s.rttMs} ms, injected 40`);
    // Timers fire late on a busy machine: the truth is the delay the server really applied, smoothed
    // the same way (the first request was the untimed warm-up).
    const ewma = new Ewma(DEFAULT_PEER_ESTIMATOR_OPTIONS.alpha);
    const answered = slow.applied.slice(1).filter((d) => d < 140);
    for (const d of answered.slice(0, s.samples)) ewma.observe(d);
    const truth = ewma.value!;
    assert.ok(s.rttMs! >= truth - 0.5 && s.rttMs! - truth < 8, `slow peer ${s.rttMs} ms, applied delay (EWMA) ${truth} ms`);
    assert.ok(s.p90Ms! >= 40, `p90 ${s.p90Ms}`);
    assert.ok(f.rttMs! < s.rttMs! - 30, `fast peer ${f.rttMs} ms vs slow ${s.rttMs} ms`);
    // A process descheduled for > 100 ms on a loaded 2-core machine times a probe out now and then.
    assert.ok(s.lossRatio < 0.2 && f.lossRatio < 0.2, `loss ${s.lossRatio} / ${f.lossRatio}`);
    assert.equal(s.reachable, true);
  } finally {
    await a.close();
    await fast.close();
    await slow.close();
  }
});

test("a step in a peer's RTT is confirmed by one extra probe and taken at once, never half-way", async () => {
  let delayMs = 5;
  const peer = await delayedProbeServer(() => delayMs);
  const registry = new Registry();
  const a = agent('a', {
    intervalMs: 1000,
    timeoutMs: 900,
    confirmDelayMs: 100,
    registry,
    staticPeers: [{ name: 'p', probe_address: `127.0.0.1:${peer.port}` }],
  });
  const seen: number[] = [];
  const watch = setInterval(() => {
    const v = a.estimate('p')?.rttMs;
    if (v !== undefined && v !== seen[seen.length - 1]) seen.push(v);
  }, 5);
  try {
    await a.start();
    await waitFor('4 samples at the old level', () => (a.estimate('p')?.samples ?? 0) >= 4, 8000);
    const roundsBefore = a.roundCount;
    delayMs = 80;
    await waitFor('a sample at the new level', () => a.estimate('p')!.samples > 4 && a.estimate('p')!.p90Ms! >= 70, 3000);
    const roundsAtFirst = a.roundCount;
    await waitFor('the estimate at the new level', () => a.estimate('p')!.rttMs! >= 70, 3000);
    // The confirming probe came between rounds (100 ms after the first sample, the next round ~1 s after).
    assert.equal(a.roundCount, roundsAtFirst, `rounds: ${roundsBefore} → ${roundsAtFirst} → ${a.roundCount}`);
    const halfWay = seen.filter((v) => v > 25 && v < 70);
    assert.deepEqual(halfWay, [], `estimates seen: ${seen.map((v) => v.toFixed(1)).join(', ')}`);
    const confirmations = (await registry.getSingleMetric('proxima_probe_shift_confirmations_total')!.get()).values[0]!.value;
    assert.ok(confirmations >= 1, `confirmations ${confirmations}`);
  } finally {
    clearInterval(watch);
    await a.close();
    await peer.close();
  }
});

test('agents learn peers from the control plane; RTT through a delaying TCP proxy converges and reaches the model', async () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b', 'c']));
  const collector = new ProbeCollector({ store, log, registry: new Registry() });
  const cp = await startGrpc((s) => collector.register(s));
  const ports = new Map<string, number>();
  // b and c are reached through proxies adding 10 ms and 30 ms of RTT; they advertise the proxies.
  const pb = await delayProxy(() => ports.get('b')!, 5);
  const pc = await delayProxy(() => ports.get('c')!, 15);
  const controlPlane = `127.0.0.1:${cp.port}`;
  const b = agent('b', { controlPlane, advertiseAddress: `127.0.0.1:${pb.port}` });
  const c = agent('c', { controlPlane, advertiseAddress: `127.0.0.1:${pc.port}` });
  const a = agent('a', { controlPlane });
  try {
    for (const [name, x] of [
      ['b', b],
      ['c', c],
    ] as const) {
      await x.start();
      ports.set(name, x.listenPort);
    }
    await a.start();
    await waitFor(
      'a to learn both peers and measure them 10 times',
      () => (a.estimate('b')?.samples ?? 0) >= 10 && (a.estimate('c')?.samples ?? 0) >= 10,
      5000,
    );
    const eb = a.estimate('b')!;
    const ec = a.estimate('c')!;
    assert.ok(eb.rttMs! >= 9.5 && ec.rttMs! >= 29.5, `a→b ${eb.rttMs} ms, a→c ${ec.rttMs} ms: at least the injected 10 / 30 ms`);
    assert.ok(Math.abs(ec.rttMs! - eb.rttMs! - 20) < 10, `a→c ${ec.rttMs} ms − a→b ${eb.rttMs} ms, want ≈ 20`);
    // The control plane has the rows: fresh, reachable, the agent's values.
    await waitFor('model rows', () => store.measured('a', 'c', Date.now()) !== undefined);
    const m = store.measured('a', 'c', Date.now())!;
    assert.equal(m.reachable, true);
    assert.ok(
      m.rttMs >= 29.5 && m.rttMs - store.rttMs('a', 'b', Date.now()) > 12,
      `model a→c ${m.rttMs}, a→b ${store.rttMs('a', 'b', Date.now())}`,
    );
    // a is reached directly: b's view of a is much faster than its view of c.
    await waitFor(
      'b→a and b→c rows',
      () => store.measured('b', 'a', Date.now()) !== undefined && store.measured('b', 'c', Date.now()) !== undefined,
    );
    assert.ok(store.rttMs('b', 'c', Date.now()) - store.rttMs('b', 'a', Date.now()) > 20);
  } finally {
    await a.close();
    await b.close();
    await c.close();
    await pb.close();
    await pc.close();
    collector.close();
    await cp.close();
  }
});

test('a peer that stops answering is unreachable within 3 intervals; with nearest, its endpoints leave priority 0', async () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b', 'c']));
  const engine = new AssignmentEngine({ store, policy: nearestPolicy });
  engine.start();
  const collector = new ProbeCollector({ store, log, registry: new Registry(), pushDelayMs: 5 });
  const cp = await startGrpc((s) => collector.register(s));
  const intervalMs = 200;
  const controlPlane = `127.0.0.1:${cp.port}`;
  let cPort = 0;
  const pc = await delayProxy(() => cPort, 10); // c is 20 ms away, b is local-fast: b is the nearest
  const a = agent('a', { controlPlane, intervalMs, timeoutMs: 100 });
  const b = agent('b', { controlPlane, intervalMs, timeoutMs: 100 });
  const c = agent('c', { controlPlane, intervalMs, timeoutMs: 100, advertiseAddress: `127.0.0.1:${pc.port}` });
  let bClosed = false;
  try {
    await b.start();
    await c.start();
    cPort = c.listenPort;
    await a.start();
    const primary = () => {
      engine.flush();
      return engine
        .get('default/hello', 'a')!
        .localities.filter((l) => l.priority === 0)
        .map((l) => l.node);
    };
    await waitFor(
      'a to measure b and c',
      () => store.measured('a', 'b', Date.now()) !== undefined && store.measured('a', 'c', Date.now()) !== undefined,
      5000,
    );
    assert.deepEqual(primary(), ['b']);

    const stoppedAt = Date.now();
    await b.close();
    bClosed = true;
    const markedMs = await waitFor('a to mark b unreachable', () => a.estimate('b')?.reachable === false, 3 * intervalMs + 500, 5);
    assert.ok(markedMs <= 3 * intervalMs, `marked after ${markedMs} ms (interval ${intervalMs} ms)`);
    await waitFor('the model to see b unreachable', () => !store.reachable('a', 'b', Date.now()), 1000, 5);
    const modelMs = Date.now() - stoppedAt;
    assert.ok(modelMs <= 3 * intervalMs, `model updated ${modelMs} ms after b stopped`);
    assert.deepEqual(primary(), ['c']);
    const bLoc = engine.get('default/hello', 'a')!.localities.find((l) => l.node === 'b');
    assert.ok(bLoc && bLoc.priority > 0, 'b stays as failover at a lower priority');
  } finally {
    await a.close();
    if (!bClosed) await b.close();
    await c.close();
    await pc.close();
    engine.stop();
    collector.close();
    await cp.close();
  }
});

test('the agent keeps measuring while the control plane is down and reconnects when it is back', async () => {
  const store1 = new ModelStore();
  store1.replaceTopology(topology(['a', 'b']));
  const collector1 = new ProbeCollector({ store: store1, log, registry: new Registry() });
  const cp1 = await startGrpc((s) => collector1.register(s));
  const port = cp1.port;
  const a = agent('a', { controlPlane: `127.0.0.1:${port}` });
  const b = agent('b', { controlPlane: `127.0.0.1:${port}` });
  let cp2: Awaited<ReturnType<typeof startGrpc>> | undefined;
  let collector2: ProbeCollector | undefined;
  try {
    await a.start();
    await b.start();
    await waitFor('first rows', () => store1.measured('a', 'b', Date.now()) !== undefined, 5000);
    collector1.close();
    await cp1.close();
    await waitFor('a to notice', () => !a.connected, 3000);
    const roundsDown = a.roundCount;
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(a.roundCount >= roundsDown + 2, 'probing continues while disconnected');

    const store2 = new ModelStore();
    store2.replaceTopology(topology(['a', 'b']));
    collector2 = new ProbeCollector({ store: store2, log, registry: new Registry() });
    cp2 = await startGrpc((s) => collector2!.register(s), port);
    const reconnectMs = await waitFor('a to reconnect', () => a.connected && b.connected, 5000);
    await waitFor(
      'rows in the new control plane',
      () => store2.measured('a', 'b', Date.now()) !== undefined && store2.measured('b', 'a', Date.now()) !== undefined,
      3000,
    );
    assert.ok(reconnectMs < 5000);
    assert.deepEqual(
      collector2.agents().map((x) => x.node),
      ['a', 'b'],
    );
  } finally {
    await a.close();
    await b.close();
    collector2?.close();
    await cp2?.close();
  }
});
