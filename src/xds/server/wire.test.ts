import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GatheredResponse, serializeResponse } from './wire.js';

const identity = (b: Buffer): Buffer => b;

test('serializeResponse: bytes pass through; gathered parts come out concatenated', () => {
  const bytes = Buffer.from('abc');
  assert.equal(serializeResponse(bytes), bytes);
  const gathered = new GatheredResponse([Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')], 5);
  assert.equal(serializeResponse(gathered).toString(), 'abcde');
  assert.equal(gathered.toBuffer().toString(), 'abcde');
});

test('xDS server: concurrent large responses on two streams arrive intact (grpc-js copies what serializeResponse returns)', async () => {
  // Every response is serialized into one shared scratch buffer: if gRPC held on to it instead of
  // copying it into its frame, the second stream's responses would overwrite the first's in flight.
  const method: grpc.MethodDefinition<Buffer, GatheredResponse | Buffer> = {
    path: '/proxima.test.Wire/Stream',
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: serializeResponse,
    responseDeserialize: identity,
  };
  const server = new grpc.Server();
  server.addService({ Stream: method } as grpc.ServiceDefinition, {
    Stream: (call: grpc.ServerDuplexStream<Buffer, GatheredResponse>) =>
      call.on('data', (req: Buffer) => {
        for (let i = 0; i < 4; i++) {
          const fill = req[0]! + i;
          call.write(new GatheredResponse([Buffer.alloc(300_000, fill), Buffer.alloc(300_001, fill)], 600_001));
        }
        call.end();
      }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const receive = (first: number): Promise<Buffer[]> =>
      new Promise((resolve, reject) => {
        const got: Buffer[] = [];
        const call = client.makeBidiStreamRequest<Buffer, Buffer>(method.path, identity, identity);
        call.on('data', (b: Buffer) => got.push(b));
        call.on('error', reject);
        call.on('end', () => resolve(got));
        call.write(Buffer.from([first]));
        call.end();
      });
    const [a, b] = await Promise.all([receive(10), receive(100)]);
    for (const [first, got] of [
      [10, a],
      [100, b],
    ] as const) {
      assert.equal(got.length, 4);
      got.forEach((r, i) => {
        assert.equal(r.length, 600_001);
        assert.ok(
          r.every((x) => x === first + i),
          `response ${i} of the stream starting at ${first} holds another response's bytes`,
        );
      });
    }
  } finally {
    client.close();
    server.forceShutdown();
  }
});
