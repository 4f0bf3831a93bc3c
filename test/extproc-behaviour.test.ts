/**
 * Picking behaviour over real gRPC on loopback (grpc-js client speaking raw ext_proc messages):
 * saturation spill and return, shedding, fail-closed, Knative splits, the demand hook.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  RawExtProcClient,
  requestHeaders,
  responseHeaders,
  setHeader,
  startFixture,
  TOPOLOGY,
  type Fixture,
  type Json,
  type RawStream,
} from './peers/extproc-peer.js';

const HOST = 'hello.default.example.com';

async function route(client: RawExtProcClient, node: string, host = HOST): Promise<{ stream: RawStream; reply: Json }> {
  const stream = client.open();
  stream.send(requestHeaders({ ':method': 'GET', ':path': '/', ':authority': host, 'x-proxima-node': node }));
  return { stream, reply: await stream.recv() };
}

async function finish(stream: RawStream): Promise<void> {
  stream.send(responseHeaders());
  await stream.recv();
  stream.call.end();
}

describe('ext_proc picking behaviour', () => {
  let f: Fixture;
  let client: RawExtProcClient;
  const demand: string[] = [];
  before(async () => {
    // Service time 400 ms: waiting behind one request at the local pod costs more than travelling 20 ms
    // (or 50) to a free one with the locality premium on top, so a full local endpoint spills. (With
    // 10 ms the picker rightly queues locally.)
    f = await startFixture({ onRequest: (g, s) => demand.push(`${g} ${s}`) }, TOPOLOGY.replace('serviceTimeMs: 10', 'serviceTimeMs: 400'));
    client = new RawExtProcClient(f.target);
  });
  after(async () => {
    client.close();
    await f.close();
  });

  test('local endpoint at capacity → next-nearest; when it frees, requests come back', async () => {
    // edge-1's endpoint has capacity 1; edge-2 is 20 ms away, cloud-1 50 ms.
    const a = await route(client, 'edge-1');
    assert.equal(setHeader(a.reply, 'x-proxima-destination'), '10.0.1.1:8012');
    const b = await route(client, 'edge-1');
    assert.equal(setHeader(b.reply, 'x-proxima-destination'), '10.0.2.1:8012', 'spills to the next-nearest while local is saturated');
    assert.equal(setHeader(b.reply, 'x-proxima-destination-fallback'), '10.0.3.1:8012', 'saturated endpoints are not offered as fallbacks');
    const c = await route(client, 'edge-1');
    assert.equal(setHeader(c.reply, 'x-proxima-destination'), '10.0.3.1:8012', 'then to the cloud');
    await finish(a.stream);
    const d = await route(client, 'edge-1');
    assert.equal(setHeader(d.reply, 'x-proxima-destination'), '10.0.1.1:8012', 'back to local once it frees');
    for (const s of [b.stream, c.stream, d.stream]) await finish(s);
    assert.equal(f.extproc.snapshot().inflightTotal, 0);
    assert.deepEqual(demand.slice(0, 4), ['edge-1 default/hello', 'edge-1 default/hello', 'edge-1 default/hello', 'edge-1 default/hello']);
  });

  test('an unknown gateway node still gets a ready endpoint (the even assignment)', async () => {
    const r = await route(client, 'somewhere-else');
    assert.match(setHeader(r.reply, 'x-proxima-destination') ?? '', /^10\.0\.\d\.1:8012$/);
    await finish(r.stream);
  });

  test('explicit routes: the split is drawn here and its Knative headers are set', async () => {
    f.store.upsertService({
      name: 'default/hello-00002',
      hosts: [],
      protocol: 'http',
      endpoints: [{ address: '10.0.9.1', port: 8012, node: 'edge-2', ready: true, capacity: 5 }],
    });
    f.store.setRoutes([
      {
        name: 'default/hello',
        hosts: ['split.example.com'],
        visibility: ['external'],
        rules: [
          {
            pathPrefix: '/',
            headers: [],
            appendHeaders: {},
            timeoutMs: 0,
            splits: [
              {
                service: 'default/hello-00002',
                percent: 100,
                appendHeaders: { 'Knative-Serving-Revision': 'hello-00002', 'Knative-Serving-Namespace': 'default' },
              },
            ],
          },
        ],
      },
    ]);
    f.engine.flush();
    const r = await route(client, 'edge-1', 'split.example.com');
    assert.equal(setHeader(r.reply, 'x-proxima-destination'), '10.0.9.1:8012');
    assert.equal(setHeader(r.reply, 'Knative-Serving-Revision'), 'hello-00002');
    await finish(r.stream);
    f.store.setRoutes(undefined);
  });
});

describe('ext_proc fail-closed and shedding', () => {
  let f: Fixture;
  let client: RawExtProcClient;
  before(async () => {
    f = await startFixture(
      { failClosed: true, shedWhenSaturated: true },
      `
nodes: [{ name: n1 }]
services:
  - name: default/one
    hosts: [one.example.com]
    endpoints: [{ address: 10.1.0.1, port: 80, node: n1, capacity: 1 }]
`,
    );
    client = new RawExtProcClient(f.target);
  });
  after(async () => {
    client.close();
    await f.close();
  });

  test('unknown host → immediate 503', async () => {
    const r = await route(client, 'n1', 'nope.example.com');
    assert.equal(r.reply['immediate_response']?.status?.code, 'ServiceUnavailable');
    r.stream.call.end();
  });

  test('every candidate at capacity → immediate 429, no slot taken; free again → routed', async () => {
    const a = await route(client, 'n1', 'one.example.com');
    assert.equal(setHeader(a.reply, 'x-proxima-destination'), '10.1.0.1:80');
    const b = await route(client, 'n1', 'one.example.com');
    assert.equal(b.reply['immediate_response']?.status?.code, 'TooManyRequests');
    b.stream.call.end();
    assert.equal(f.extproc.snapshot().inflightTotal, 1);
    await finish(a.stream);
    const c = await route(client, 'n1', 'one.example.com');
    assert.equal(setHeader(c.reply, 'x-proxima-destination'), '10.1.0.1:80');
    await finish(c.stream);
    const m = await f.registry.getSingleMetric('proxima_extproc_decisions_total')?.get();
    const v = (o: string): number => m?.values.find((x) => x.labels['outcome'] === o)?.value ?? 0;
    assert.deepEqual([v('picked'), v('shed'), v('fail_closed')], [2, 1, 1]);
  });
});
