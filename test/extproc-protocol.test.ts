/**
 * ext_proc protocol against an independent client: Debian's python3-grpcio (C-core) with classes
 * protoc generates from Envoy's .proto files at test time. Skips locally when python3-grpcio or
 * protoc is missing; fails in CI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generatePythonProtos, pythonPeerMissing, removeGenerated, runPython, startFixture, type Fixture } from './peers/extproc-peer.js';

const missing = pythonPeerMissing();
if (missing && process.env['CI']) throw new Error(`ext_proc interop needs the Python peer: ${missing}`);

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const H = (authority: string, node?: string, extra: Array<[string, string]> = []): Array<[string, string]> => [
  [':method', 'GET'],
  [':path', '/hello'],
  [':authority', authority],
  ...(node ? ([['x-proxima-node', node]] as Array<[string, string]>) : []),
  ...extra,
];

async function counter(f: Fixture, name: string, labels: Record<string, string>): Promise<number> {
  const m = await f.registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('ext_proc protocol with the Python (grpcio + protoc) client', { skip: missing ? `skipped: ${missing}` : false }, () => {
  let gen = '';
  let f: Fixture;
  before(async () => {
    gen = generatePythonProtos();
    f = await startFixture();
  });
  after(async () => {
    await f?.close();
    if (gen) removeGenerated(gen);
  });

  test('request_headers (raw_value) → destination near the gateway, fallbacks, route cache cleared, envoy.lb metadata; response_headers recorded', async () => {
    const [s] = await runPython(gen, f.target, {
      streams: [
        {
          steps: [
            { send: 'request_headers', headers: H('Hello.Default.Example.com:8080', 'edge-1'), raw: true },
            { recv: true },
            { send: 'response_headers', headers: [[':status', '200']] },
            { recv: true },
            { close: true },
          ],
        },
      ],
    });
    assert.equal(s!.error, null);
    assert.equal(s!.responses.length, 2);
    const [first, second] = s!.responses;
    const common = first!['request_headers'].response;
    assert.equal(common.clear_route_cache, true);
    const set = common.header_mutation.set_headers as Array<{ header: Record<string, string> }>;
    assert.deepEqual(
      set.map((x) => x.header),
      [
        { key: 'x-proxima-destination', raw_value: b64('10.0.1.1:8012') },
        { key: 'x-proxima-destination-fallback', raw_value: b64('10.0.2.1:8012,10.0.3.1:8012') },
      ],
    );
    assert.deepEqual(first!['dynamic_metadata'], { 'envoy.lb': { 'x-proxima-destination': '10.0.1.1:8012' } });
    assert.deepEqual(second, { response_headers: { response: {} } });
    await until(() => f.extproc.snapshot().streams === 0, 'stream close');
    const ep = f.extproc.snapshot().endpoints.find((e) => e.endpoint === '10.0.1.1:8012');
    assert.equal(ep?.inflight, 0);
    assert.equal(ep?.samples, 1);
    assert.equal(await counter(f, 'proxima_extproc_decisions_total', { outcome: 'picked' }), 1);
    assert.equal(await counter(f, 'proxima_extproc_picks_total', { locality: 'local' }), 1);
  });

  test('older Envoy sends `value`: the reply uses `value`; another gateway gets its own local endpoint', async () => {
    const [s] = await runPython(gen, f.target, {
      streams: [
        {
          steps: [
            { send: 'request_headers', headers: H('hello.default.svc.cluster.local', 'edge-2'), raw: false },
            { recv: true },
            { send: 'response_headers', headers: [[':status', '200']], raw: false },
            { recv: true },
          ],
        },
      ],
    });
    const set = s!.responses[0]!['request_headers'].response.header_mutation.set_headers as Array<{ header: Record<string, string> }>;
    assert.deepEqual(set[0]!.header, { key: 'x-proxima-destination', value: '10.0.2.1:8012' });
  });

  test('unknown host: plain CONTINUE without mutation (fail-open), counted as no_service', async () => {
    const before = await counter(f, 'proxima_extproc_decisions_total', { outcome: 'no_service' });
    const [s] = await runPython(gen, f.target, {
      streams: [{ steps: [{ send: 'request_headers', headers: H('nope.example.com', 'edge-1') }, { recv: true }] }],
    });
    assert.deepEqual(s!.responses, [{ request_headers: { response: {} } }]);
    assert.equal(await counter(f, 'proxima_extproc_decisions_total', { outcome: 'no_service' }), before + 1);
  });

  test('malformed and out-of-order messages get the matching empty reply, are counted, and never break the stream', async () => {
    const before = await counter(f, 'proxima_extproc_decisions_total', { outcome: 'malformed' });
    const [s] = await runPython(gen, f.target, {
      streams: [
        {
          steps: [
            { send_hex: 'ffffffffff' }, // undecodable
            { recv: true },
            { send_empty: true }, // no oneof set
            { recv: true },
            { send: 'response_headers', headers: [[':status', '200']] }, // before request_headers
            { recv: true },
            { send: 'request_headers', headers: H('hello.default.example.com', 'edge-1') },
            { recv: true },
            { send: 'request_headers', headers: H('hello.default.example.com', 'edge-1') }, // twice
            { recv: true },
            { send: 'request_body', body: 'x' }, // not asked for: passed through
            { recv: true },
            { send: 'response_headers', headers: [[':status', '200']] },
            { recv: true },
          ],
        },
      ],
    });
    assert.equal(s!.error, null);
    const r = s!.responses;
    assert.equal(r.length, 7);
    assert.deepEqual(r[0], { request_headers: { response: {} } });
    assert.deepEqual(r[1], { request_headers: { response: {} } });
    assert.deepEqual(r[2], { response_headers: { response: {} } });
    assert.ok(r[3]!['request_headers'].response.header_mutation, 'the real request_headers is still routed');
    assert.deepEqual(r[4], { request_headers: { response: {} } });
    assert.deepEqual(r[5], { request_body: { response: {} } });
    assert.deepEqual(r[6], { response_headers: { response: {} } });
    assert.equal(await counter(f, 'proxima_extproc_decisions_total', { outcome: 'malformed' }), before + 4);
    await until(() => f.extproc.snapshot().inflightTotal === 0, 'no slot held');
  });

  test('a stream cut mid-request (after request_headers, before response_headers) leaks no in-flight slot', async () => {
    const releasedBefore = (await f.registry.getSingleMetric('proxima_extproc_slots_released_total')?.get())?.values ?? [];
    const before = releasedBefore.reduce((n, v) => n + v.value, 0);
    let held = -1;
    const [s] = await runPython(
      gen,
      f.target,
      {
        streams: [
          {
            steps: [
              { send: 'request_headers', headers: H('hello.default.example.com', 'edge-1') },
              { recv: true },
              { pause: 'held' },
              { cancel: true },
            ],
          },
        ],
      },
      async () => {
        held = f.extproc.snapshot().endpoints.find((e) => e.endpoint === '10.0.1.1:8012')?.inflight ?? -1;
      },
    );
    assert.equal(s!.error, 'CANCELLED');
    assert.equal(held, 1, 'the slot is held while the request is in flight');
    await until(() => f.extproc.snapshot().inflightTotal === 0 && f.extproc.snapshot().streams === 0, 'slot released after cancel');
    const released = (await f.registry.getSingleMetric('proxima_extproc_slots_released_total')?.get())?.values ?? [];
    const byReason = Object.fromEntries(released.filter((v) => v.value > 0).map((v) => [v.labels['reason'], v.value]));
    assert.equal(
      released.reduce((n, v) => n + v.value, 0),
      before + 1,
      'released exactly once, by the stream ending',
    );
    // grpc-js reports the client's RST_STREAM as the end of the stream or as a cancel, whichever it sees first.
    assert.ok((byReason['cancelled'] ?? 0) + (byReason['end'] ?? 0) >= 1, JSON.stringify(byReason));
  });

  test('Knative-Serving-Namespace/-Revision name the service directly', async () => {
    const [s] = await runPython(gen, f.target, {
      streams: [
        {
          steps: [
            {
              send: 'request_headers',
              headers: H('10.96.0.10:80', 'edge-2', [
                ['knative-serving-namespace', 'default'],
                ['knative-serving-revision', 'hello'],
              ]),
            },
            { recv: true },
            { close: true },
          ],
        },
      ],
    });
    const set = s!.responses[0]!['request_headers'].response.header_mutation.set_headers as Array<{ header: Record<string, string> }>;
    assert.equal(set[0]!.header['raw_value'], b64('10.0.2.1:8012'));
  });
});
