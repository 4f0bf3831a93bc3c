/**
 * The node:http2 gRPC transport of ext_proc (src/net/grpc-h2.ts) against what the gRPC
 * over HTTP/2 spec (grpc/grpc doc/PROTOCOL-HTTP2.md) asks of a server on bad input, spoken with
 * node:http2 directly so every byte is ours; and the emulated gateway's HTTP/2 client
 * (src/emulator/extproc-client.ts) end to end: a decision, and its slot freed when it completes.
 * The happy path with independent clients (grpc-js, Python grpcio) is in extproc-protocol.test.ts.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodeRequest } from '../src/extproc/codec.js';
import { EXTPROC_METHOD_PATH } from '../src/extproc/server.js';
import { createH2Transport, type GrpcStreamHandler, type H2Call, type StreamEnd } from '../src/net/grpc-h2.js';
import { ExtProcClient } from '../src/emulator/extproc-client.js';
import { frameMessage } from '../src/net/grpc-frames.js';
import { requestHeaders, startFixture, type Fixture } from './peers/extproc-peer.js';

const HOST = 'hello.default.example.com';

interface Exchange {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP/2 request with the given headers and body; the server's answer. */
function exchange(target: string, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${target}`);
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': EXTPROC_METHOD_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    const out: Exchange = { status: 0, headers: {}, trailers: {}, body: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      out.headers = h;
      out.status = Number(h[':status']);
    });
    req.on('trailers', (t) => (out.trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('close', () => {
      out.body = Buffer.concat(chunks);
      session.close();
      resolve(out);
    });
    req.on('error', () => undefined);
    req.end(body);
  });
}

const grpcStatus = (e: Exchange) => Number(e.trailers['grpc-status'] ?? e.headers['grpc-status']);

describe('ext_proc over node:http2', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  test('a request_headers message gets response headers, one length-prefixed reply and grpc-status 0 in trailers', async () => {
    const msg = encodeRequest(requestHeaders({ ':authority': HOST, ':path': '/', 'x-proxima-node': 'edge-1' }));
    const e = await exchange(f.target, {}, frameMessage(msg));
    assert.equal(e.status, 200);
    assert.match(String(e.headers['content-type']), /^application\/grpc/);
    assert.equal(e.trailers['grpc-status'], '0');
    assert.equal(e.body[0], 0, 'uncompressed');
    assert.equal(e.body.readUInt32BE(1), e.body.length - 5, 'exactly one message');
    assert.ok(e.body.includes(Buffer.from('x-proxima-destination')));
  });

  test('an unknown method is UNIMPLEMENTED (trailers-only), a non-gRPC content-type is HTTP 415', async () => {
    const unknown = await exchange(f.target, { ':path': '/envoy.service.ext_proc.v3.ExternalProcessor/Nope' }, Buffer.alloc(0));
    assert.equal(unknown.status, 200);
    assert.equal(grpcStatus(unknown), 12);
    const json = await exchange(f.target, { 'content-type': 'application/json' }, Buffer.from('{}'));
    assert.equal(json.status, 415);
  });

  test('a compressed message or grpc-encoding is UNIMPLEMENTED, an oversized one RESOURCE_EXHAUSTED; nothing is picked', async () => {
    const picks = async () =>
      (await f.registry.getSingleMetric('proxima_extproc_decisions_total')?.get())?.values.reduce((s, v) => s + v.value, 0) ?? 0;
    const before = await picks();
    const msg = encodeRequest(requestHeaders({ ':authority': HOST, ':path': '/', 'x-proxima-node': 'edge-1' }));
    const compressed = frameMessage(msg);
    compressed[0] = 1;
    assert.equal(grpcStatus(await exchange(f.target, {}, compressed)), 12);
    assert.equal(grpcStatus(await exchange(f.target, { 'grpc-encoding': 'gzip' }, frameMessage(msg))), 12);
    const huge = Buffer.alloc(5);
    huge.writeUInt32BE(64 * 1024 * 1024, 1); // only the prefix: the length alone is refused
    assert.equal(grpcStatus(await exchange(f.target, {}, huge)), 8);
    assert.equal(await picks(), before);
  });

  test('a message split across DATA frames is reassembled', async () => {
    const msg = frameMessage(encodeRequest(requestHeaders({ ':authority': HOST, ':path': '/', 'x-proxima-node': 'edge-1' })));
    const e = await new Promise<Exchange>((resolve) => {
      const session = http2.connect(`http://${f.target}`);
      const req = session.request({ ':method': 'POST', ':path': EXTPROC_METHOD_PATH, 'content-type': 'application/grpc', te: 'trailers' });
      const out: Exchange = { status: 0, headers: {}, trailers: {}, body: Buffer.alloc(0) };
      req.on('response', (h) => (out.status = Number(h[':status'])));
      req.on('trailers', (t) => (out.trailers = t));
      req.on('data', (c: Buffer) => (out.body = Buffer.concat([out.body, c])));
      req.on('close', () => {
        session.close();
        resolve(out);
      });
      req.write(msg.subarray(0, 3));
      setTimeout(() => req.write(msg.subarray(3, 20)), 20);
      setTimeout(() => req.end(msg.subarray(20)), 40);
    });
    assert.equal(e.trailers['grpc-status'], '0');
    assert.ok(e.body.includes(Buffer.from('x-proxima-destination')));
  });

  test("the emulated gateway's client gets a destination and frees the slot when the request completes", async () => {
    const client = new ExtProcClient(f.target, 'edge-1');
    // The exchanges above end their streams at once (read as abandoned picks): their fallback slots
    // last the expected time of a request; let them go first.
    const settle = Date.now() + 5000;
    while (f.extproc.tracker.totalInflight() !== 0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 10));
    try {
      const d = await client.decide(HOST, 5000);
      assert.ok(d.destination, 'a destination was picked');
      assert.equal(f.extproc.tracker.totalInflight(), 1);
      d.complete();
      const end = Date.now() + 5000;
      while (f.extproc.tracker.totalInflight() !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      assert.equal(f.extproc.tracker.totalInflight(), 0);
      const unknown = await client.decide('nobody.example.com');
      assert.equal(unknown.destination, undefined, 'unknown host: no destination (EDS decides)');
      unknown.complete();
    } finally {
      client.close();
    }
  });
});

test("the emulated gateway's client opens another connection when one is at the server's stream limit, as Envoy's pool does", async () => {
  const f = await startFixture({}, undefined, 2);
  const client = new ExtProcClient(f.target, 'edge-1');
  try {
    (await client.decide(HOST, 5000)).complete(); // connected: the server's SETTINGS are known
    const end = Date.now() + 5000;
    while (f.extproc.snapshot().streams > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50)); // the trailers reach the client: its stream is closed too
    // Five requests in flight at once against 2 streams per connection: none may wait for a stream
    // (it would time out after the filter's message timeout and fall back to EDS, no destination).
    const decisions = await Promise.all(Array.from({ length: 5 }, () => client.decide(HOST, 5000)));
    assert.equal(decisions.filter((d) => d.destination).length, 5);
    assert.equal(f.extproc.tracker.totalInflight(), 5);
    for (const d of decisions) d.complete();
  } finally {
    client.close();
    await f.close();
  }
});

test("on the message timeout the emulated gateway closes the stream at once, as Envoy's ext_proc filter does with failure_mode_allow", async () => {
  // Envoy (envoyproxy/envoy source/extensions/filters/http/ext_proc/ext_proc.cc, Filter::onMessageTimeout):
  // with failure_mode_allow the request goes on unmodified and closeStream() ends the ext_proc stream
  // right then, not when the request is done: the processor must not hold a slot for a request it
  // did not route. A processor that never answers: the stream must be gone long before the request ends.
  const server = http2.createServer();
  const closedAt: number[] = [];
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () => closedAt.push(Date.now()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const client = new ExtProcClient(`127.0.0.1:${address.port}`, 'edge-1');
  try {
    const started = Date.now();
    const d = await client.decide(HOST, 50);
    assert.equal(d.destination, undefined, 'no decision: the EDS weights route the request');
    assert.equal(client.timeouts, 1);
    const end = Date.now() + 2000;
    while (closedAt.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.equal(closedAt.length, 1, 'the processor saw the stream end before the request completed');
    assert.ok(closedAt[0]! - started >= 50, 'not before the timeout');
    d.complete(); // the request is done later: nothing more reaches the processor
  } finally {
    client.close();
    for (const s of sessions) s.destroy();
    server.close();
  }
});

test("the handler hears of the client's END_STREAM while the stream is still open (its slot is not held until our trailers are flushed); a bare reset is a cancel", async () => {
  const ends: { how: StreamEnd; writable: boolean }[] = [];
  const handler: GrpcStreamHandler<H2Call> = {
    open: (call) => call,
    message: (call, msg) => call.write(msg),
    finish: (call, how) => ends.push({ how, writable: call.writable }),
  };
  const transport = createH2Transport({ maxMessageBytes: 1024, maxStreamsPerConnection: 10 }, new Map([[EXTPROC_METHOD_PATH, handler]]));
  const server = net.createServer((socket) => transport.accept(socket));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const session = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  try {
    const open = () => {
      const req = session.request({ ':method': 'POST', ':path': EXTPROC_METHOD_PATH, 'content-type': 'application/grpc', te: 'trailers' });
      req.on('error', () => undefined);
      req.on('data', () => undefined);
      const echoed = new Promise<void>((ok) => req.once('data', () => ok()));
      req.write(frameMessage(Buffer.from('x')));
      return { req, echoed };
    };
    const ended = open();
    await ended.echoed;
    ended.req.end();
    await new Promise((ok) => ended.req.once('close', ok));
    assert.deepEqual(ends[0], { how: 'end', writable: true }, 'told at END_STREAM, before the server ended its side');
    const reset = open();
    await reset.echoed;
    const before = ends.length;
    reset.req.destroy();
    const deadline = Date.now() + 2000;
    while (ends.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(ends[before]?.how, 'cancelled');
  } finally {
    session.close();
    await transport.close(100);
    server.close();
  }
});
