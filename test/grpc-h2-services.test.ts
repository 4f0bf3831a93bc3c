/**
 * The gateways' gRPC port on node:http2 (src/net/grpc-h2-services.ts over src/net/grpc-h2.ts),
 * spoken to by grpc-js's client (an independent gRPC implementation): a service definition served
 * as grpc-js's Server would serve it — decoded requests, serialized responses, a message already in
 * bytes or gathered parts sent as it is, a status emitted as 'error' reaching the client with its
 * code and details, a request the method cannot decode answered INTERNAL, two services multiplexed on
 * one connection (Envoy may carry ADS and LRS on one), an unknown method UNIMPLEMENTED — and messages
 * larger than a DATA frame in both directions.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { H2Services } from '../src/net/grpc-h2-services.js';
import { createH2Transport, type H2Transport } from '../src/net/grpc-h2.js';

const raw = (b: Buffer): Buffer => b;

/** A hand-made definition (bytes in, bytes out; an empty request cannot be decoded). */
function service(name: string): grpc.ServiceDefinition {
  return {
    Chat: {
      path: `/test.${name}/Chat`,
      requestStream: true,
      responseStream: true,
      requestSerialize: raw,
      requestDeserialize: (b: Buffer) => {
        if (b.length === 0) throw new Error('empty request');
        return b.toString('utf8');
      },
      responseSerialize: (v: unknown) => Buffer.from(`serialized:${String(v)}`),
      responseDeserialize: raw,
    },
  };
}

let listener: net.Server;
let transport: H2Transport;
let client: grpc.Client;
const peers: string[] = [];

before(async () => {
  const host = new H2Services();
  // Echo: "big:N" answers N bytes as gathered parts, "bytes:x" a Buffer, "fail" a status, else an object.
  host.addService(service('Echo'), {
    Chat: (call: grpc.ServerDuplexStream<string, unknown>) => {
      peers.push(call.getPeer());
      call.on('data', (msg: string) => {
        if (msg.startsWith('big:')) {
          const n = Number(msg.slice(4));
          const parts = [Buffer.alloc(n / 2, 'a'), Buffer.alloc(n / 2, 'b')];
          call.write({ parts, byteLength: n });
        } else if (msg.startsWith('bytes:')) call.write(Buffer.from(msg.slice(6)));
        else if (msg === 'throw') throw new Error('a bug in the handler');
        else if (msg === 'fail') call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'node "a": refused, 100% — not you' });
        else if (msg.startsWith('len:')) call.write(`received ${msg.length} chars`);
        else call.write(msg);
      });
      call.on('end', () => call.end());
    },
  });
  host.addService(service('Other'), {
    Chat: (call: grpc.ServerDuplexStream<string, unknown>) => {
      peers.push(call.getPeer());
      call.on('data', (msg: string) => call.write(`other ${msg}`));
    },
  });
  transport = createH2Transport({ maxMessageBytes: 4 * 1024 * 1024, maxStreamsPerConnection: 100 }, host.methods());
  listener = net.createServer((s) => transport.accept(s));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  client = new grpc.Client(`127.0.0.1:${(listener.address() as net.AddressInfo).port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  await transport.close(100);
  listener.close();
});

/** Opens a stream on `path`, sends `messages`, half-closes; resolves with what came back and the status. */
function converse(path: string, messages: Buffer[], expect: number): Promise<{ replies: Buffer[]; status: grpc.StatusObject | undefined }> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest<Buffer, Buffer>(path, raw, raw);
    const replies: Buffer[] = [];
    let status: grpc.StatusObject | undefined;
    const done = (): void => resolve({ replies, status });
    call.on('data', (b: Buffer) => {
      replies.push(b);
      if (replies.length === expect) call.end();
    });
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      done();
    });
    call.on('error', () => undefined);
    for (const m of messages) call.write(m);
    if (expect === 0) call.end();
  });
}

test('requests are decoded and responses serialized with the definition; Buffers and gathered parts go out as they are', async () => {
  const r = await converse('/test.Echo/Chat', [Buffer.from('hello'), Buffer.from('bytes:raw'), Buffer.from('big:40000')], 3);
  assert.equal(r.replies[0]!.toString(), 'serialized:hello');
  assert.equal(r.replies[1]!.toString(), 'raw');
  const big = r.replies[2]!;
  assert.equal(big.length, 40_000);
  assert.equal(big.subarray(0, 20_000).toString(), 'a'.repeat(20_000));
  assert.equal(big.subarray(20_000).toString(), 'b'.repeat(20_000));
  assert.equal(r.status?.code, grpc.status.OK);
  assert.match(peers.at(-1)!, /^127\.0\.0\.1:\d+$/);
});

test('a request larger than an HTTP/2 DATA frame arrives whole', async () => {
  const text = `len:${'x'.repeat(100_000)}`;
  const r = await converse('/test.Echo/Chat', [Buffer.from(text)], 1);
  assert.equal(r.replies[0]!.toString(), `serialized:received ${text.length} chars`);
});

test("a status emitted as 'error' reaches the client with its code and details", async () => {
  const r = await converse('/test.Echo/Chat', [Buffer.from('fail')], 0);
  assert.equal(r.status?.code, grpc.status.PERMISSION_DENIED);
  // Percent-encoded as the spec asks (only octets outside 0x20–0x7E and '%'): the client decodes it back.
  assert.equal(r.status?.details, 'node "a": refused, 100% — not you');
});

test('a handler that throws ends its own stream INTERNAL; the server goes on serving', async () => {
  const r = await converse('/test.Echo/Chat', [Buffer.from('throw')], 0);
  assert.equal(r.status?.code, grpc.status.INTERNAL);
  const next = await converse('/test.Echo/Chat', [Buffer.from('still here')], 1);
  assert.equal(next.replies[0]!.toString(), 'serialized:still here');
});

test('a request the method cannot decode ends the stream INTERNAL', async () => {
  const r = await converse('/test.Echo/Chat', [Buffer.alloc(0)], 0);
  assert.equal(r.status?.code, grpc.status.INTERNAL);
  assert.match(r.status?.details ?? '', /empty request/);
});

test('two services on one connection (as Envoy may carry ADS and LRS), and an unknown method is UNIMPLEMENTED', async () => {
  const [a, b, c] = await Promise.all([
    converse('/test.Echo/Chat', [Buffer.from('one')], 1),
    converse('/test.Other/Chat', [Buffer.from('two')], 1),
    converse('/test.Nope/Chat', [Buffer.from('three')], 0),
  ]);
  assert.equal(a.replies[0]!.toString(), 'serialized:one');
  assert.equal(b.replies[0]!.toString(), 'serialized:other two');
  assert.equal(c.status?.code, grpc.status.UNIMPLEMENTED);
  // grpc-js's channel keeps one HTTP/2 connection per target: all three shared it.
  assert.equal(new Set(peers.slice(-2)).size, 1);
});

test('keepalive: a peer that stops answering HTTP/2 PINGs is disconnected within two intervals; one that answers stays', async () => {
  const quick = createH2Transport({ maxMessageBytes: 1024, maxStreamsPerConnection: 10, keepaliveMs: 100 }, new Map());
  const server = net.createServer((s) => quick.accept(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    // A client that sent its preface and SETTINGS (RFC 9113 §3.4) and then went silent, as a vanished node does.
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    silent.resume(); // reads (and drops) what the server sends: the FIN is seen, nothing is answered
    silent.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    const live = http2.connect(`http://127.0.0.1:${port}`);
    live.on('error', () => undefined);
    const closed = await new Promise<boolean>((r) => {
      silent.once('close', () => r(true));
      setTimeout(() => r(false), 2000).unref();
    });
    assert.ok(closed, 'the silent peer was still connected after 2 s (20 keepalive intervals)');
    assert.equal(live.closed || live.destroyed, false, 'a peer that answers PINGs keeps its connection');
    live.close();
  } finally {
    await quick.close(100);
    server.close();
  }
});

test('only bidirectional streaming methods can be served', () => {
  const unary = { ...service('Unary')['Chat']!, requestStream: false, responseStream: false };
  assert.throws(() => new H2Services().addService({ Get: unary }, { Get: () => undefined }), /only bidirectional streaming/);
});
