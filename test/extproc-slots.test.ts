/**
 * In-flight slot accounting over real gRPC on loopback (grpc-js client speaking raw ext_proc
 * messages): each way a slot is freed is counted, and streams that never answer nor end lose their
 * slots after the slot timeout instead of starving the picker.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import {
  RawExtProcClient,
  requestHeaders,
  responseHeaders,
  setHeader,
  startFixture,
  type Fixture,
  type RawStream,
} from './peers/extproc-peer.js';
import { encodeRequest } from '../src/extproc/codec.js';
import { EXTPROC_METHOD_PATH } from '../src/extproc/server.js';
import { frameMessage } from '../src/net/grpc-frames.js';

const HOST = 'one.example.com';
const TOPOLOGY = `
defaults: { rttMs: 50, localRttMs: 0, capacity: 2, serviceTimeMs: 20 }
nodes: [{ name: n1 }, { name: n2 }]
latency: [{ from: n1, to: n2, rtt: 20 }]
services:
  - name: default/one
    hosts: [${HOST}]
    endpoints:
      - { address: 10.1.0.1, port: 80, node: n1, capacity: 100 }
      - { address: 10.2.0.1, port: 80, node: n2, capacity: 100 }
`;

async function route(client: RawExtProcClient, node = 'n1'): Promise<{ stream: RawStream; destination?: string; status?: string }> {
  const stream = client.open();
  stream.send(requestHeaders({ ':method': 'GET', ':path': '/', ':authority': HOST, 'x-proxima-node': node }));
  const reply = await stream.recv();
  const destination = setHeader(reply, 'x-proxima-destination');
  const status = reply['immediate_response']?.status?.code as string | undefined;
  return { stream, ...(destination ? { destination } : {}), ...(status ? { status } : {}) };
}

/** A Process stream on node:http2 directly (grpc-js cannot reset a stream without half-closing it first). */
async function rawRoute(target: string): Promise<{ destroy(): void }> {
  const session = http2.connect(`http://${target}`);
  session.on('error', () => undefined);
  const req = session.request({ ':method': 'POST', ':path': EXTPROC_METHOD_PATH, 'content-type': 'application/grpc', te: 'trailers' });
  req.on('error', () => undefined);
  const replied = new Promise<void>((ok) => req.once('data', () => ok()));
  req.write(frameMessage(encodeRequest(requestHeaders({ ':method': 'GET', ':path': '/', ':authority': HOST, 'x-proxima-node': 'n1' }))));
  await replied;
  return {
    destroy() {
      req.destroy();
      session.close();
    },
  };
}

async function released(f: Fixture): Promise<Record<string, number>> {
  const m = await f.registry.getSingleMetric('proxima_extproc_slots_released_total')?.get();
  return Object.fromEntries((m?.values ?? []).map((v) => [String(v.labels['reason']), v.value]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ext_proc slots', () => {
  let f: Fixture;
  let client: RawExtProcClient;
  before(async () => {
    f = await startFixture({ shedWhenSaturated: true, slotTimeoutMs: 2000 }, TOPOLOGY);
    client = new RawExtProcClient(f.target);
  });
  after(async () => {
    client.close();
    await f.close();
  });

  test('a slot is freed by response_headers, by the stream ending (response_headers skipped) or by a cancel, each counted', async () => {
    const before = await released(f);
    const a = await route(client);
    a.stream.send(responseHeaders());
    await a.stream.recv();
    a.stream.call.end();
    // Each request takes longer than the pod's 20 ms service time, as a served one does (a stream
    // that ends sooner than that was abandoned: see the next test).
    const b = await route(client);
    await sleep(30);
    b.stream.call.end(); // what Envoy does at the end of the request with response_header_mode SKIP
    const c = await route(client);
    await sleep(30);
    c.stream.call.cancel();
    // A bare RST_STREAM (no END_STREAM before it): what a gateway's connection loss looks like.
    const d = await rawRoute(f.target);
    await sleep(30);
    d.destroy();
    await until(() => f.extproc.snapshot().inflightTotal === 0 && f.extproc.snapshot().streams === 0, 'all slots free');
    const now = await released(f);
    const delta = (k: string): number => (now[k] ?? 0) - (before[k] ?? 0);
    // END_STREAM from the client is the end, freed when it arrives (not when the stream closes
    // after our trailers). grpc-js's cancel half-closes before its RST_STREAM, as Envoy's
    // closeStream does: an end too. A reset with no END_STREAM before it is a cancel.
    assert.deepEqual([delta('response_headers'), delta('end'), delta('cancelled'), delta('timeout')], [1, 2, 1, 0]);
    // Every one was a latency sample: each came after the answer (Envoy resets the stream when it
    // closes it, so a cancel after the answer is the end of the request).
    const samples = f.extproc.snapshot().endpoints.find((e) => e.endpoint === '10.1.0.1:80')?.samples;
    assert.equal(samples, 4);
  });

  test('a stream that ends before an answer could have come back (the gateway gave up and followed the EDS weights) frees its slot without a sample and leaves the routed demand', async () => {
    // Envoy's filter closes the stream at once on its message_timeout with failure_mode_allow
    // (envoyproxy/envoy source/extensions/filters/http/ext_proc/ext_proc.cc, Filter::onMessageTimeout
    // → closeStream): the request goes by the EDS weights, which the gateway's LRS reports. A pod
    // with a 1 s service time: a stream ended within 100 ms (a tenth) cannot have been served there.
    const demand: number[] = [];
    const slow = await startFixture(
      {
        demandIntervalMs: 50,
        onDemand: (gateway, loads) => {
          for (const l of loads) for (const loc of l.localities) if (gateway === 'n1') demand.push(loc.issued);
        },
      },
      TOPOLOGY.replace('serviceTimeMs: 20', 'serviceTimeMs: 1000'),
    );
    const c = new RawExtProcClient(slow.target);
    try {
      const before = await released(slow);
      const gaveUp = await route(c);
      assert.equal(gaveUp.destination, '10.1.0.1:80');
      gaveUp.stream.call.end();
      await until(() => slow.extproc.snapshot().streams === 0, 'the abandoned stream is gone');
      // The request went where the EDS weights send it: it is counted there, in flight, until its
      // expected end (the trip and the pod's 1 s service time), then freed as a fallback.
      const fallback = slow.extproc.snapshot();
      assert.equal(fallback.fallbacksCounted, 1);
      assert.equal(fallback.inflightTotal, 1);
      const counted = Date.now();
      await until(async () => ((await released(slow))['fallback'] ?? 0) - (before['fallback'] ?? 0) === 1, 'the fallback freed', 5000);
      assert.ok(Date.now() - counted >= 900, `held about the pod's service time, not ${Date.now() - counted} ms`);
      assert.equal(slow.extproc.snapshot().inflightTotal, 0);
      const served = await route(c);
      await sleep(150);
      served.stream.call.end();
      await until(() => slow.extproc.snapshot().streams === 0, 'the served stream is gone');
      await sleep(200); // a few demand flushes
      const now = await released(slow);
      const delta = (k: string): number => (now[k] ?? 0) - (before[k] ?? 0);
      assert.deepEqual([delta('abandoned'), delta('end')], [1, 1]);
      assert.equal(slow.extproc.snapshot().abandoned, 1);
      assert.equal(slow.extproc.snapshot().inflightTotal, 0);
      const samples = slow.extproc.snapshot().endpoints.find((e) => e.endpoint === '10.1.0.1:80')?.samples;
      assert.equal(samples, 1, 'only the served request is a latency sample');
      assert.equal(
        demand.reduce((a, b) => a + b, 0),
        1,
        'only the served request is routed demand',
      );
    } finally {
      c.close();
      await slow.close();
    }
  });

  test('200 streams that never answer nor end: 429s and remote picks while they hold every slot, then freed by the timeout — local picks and no 429s', async () => {
    // A server that has seen no answer yet: the hold times of earlier tests' requests (how much of a
    // slot's time counts at the pod) would make the count depend on how busy the machine was then.
    const f = await startFixture({ shedWhenSaturated: true, slotTimeoutMs: 2000 }, TOPOLOGY);
    const client = new RawExtProcClient(f.target);
    try {
      await hangAndTimeOut(f, client);
    } finally {
      client.close();
      await f.close();
    }
  });
});

/** Hang 200 streams on a fresh server, see their slots freed by the timeout, then end them. */
async function hangAndTimeOut(f: Fixture, client: RawExtProcClient): Promise<void> {
  const before = await released(f);
  const hanging: RawStream[] = [];
  // Half enter at n1, half at n2: each fills its own node's pod (100 slots each).
  for (let i = 0; i < 200; i++) {
    const node = i % 2 === 0 ? 'n1' : 'n2';
    const r = await route(client, node);
    assert.equal(r.destination, node === 'n1' ? '10.1.0.1:80' : '10.2.0.1:80', `stream ${i} from ${node}`);
    hanging.push(r.stream);
  }
  assert.equal(f.extproc.snapshot().inflightTotal, 200);
  const shed = await route(client);
  assert.equal(shed.status, 'TooManyRequests', 'every slot is held: shedding answers 429');
  shed.stream.call.end();

  await until(async () => ((await released(f))['timeout'] ?? 0) - (before['timeout'] ?? 0) === 200, '200 slots freed by the timeout');
  assert.equal(f.extproc.snapshot().inflightTotal, 0);
  assert.equal(f.extproc.snapshot().streams, 200, 'the streams themselves stay open: only their slots were freed');

  const picks: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await route(client);
    assert.equal(r.status, undefined, 'no 429 once the stale slots are gone');
    picks.push(r.destination ?? '');
    r.stream.call.end();
  }
  await until(() => f.extproc.snapshot().streams === 200, 'the 20 requests ended');
  assert.ok(
    picks.every((d) => d === '10.1.0.1:80'),
    `local again: ${picks.join(' ')}`,
  );

  // When the hanging streams finally end, nothing is released twice.
  for (const s of hanging) s.call.end();
  await until(() => f.extproc.snapshot().streams === 0, 'hanging streams closed');
  // (Fallback slots of abandoned requests, below, last only their expected time.)
  await until(() => f.extproc.snapshot().inflightTotal === 0, 'every slot free');
  const now = await released(f);
  const freed = (k: string): number => (now[k] ?? 0) - (before[k] ?? 0);
  // (Ended at once, they count as abandoned: sooner than a 20 ms service could answer.)
  assert.equal(freed('end') + freed('cancelled') + freed('abandoned'), 20, 'only the 20 normal requests were released by their end');
}
