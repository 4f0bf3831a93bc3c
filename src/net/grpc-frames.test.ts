import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PassThrough } from 'node:stream';
import { frameHeader, frameMessage, MessageReader, writeMessage } from './grpc-frames.js';

const messages = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('last one')];
const stream = Buffer.concat(messages.map(frameMessage));

function readAll(chunks: Buffer[], reader = new MessageReader(1 << 20)): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks)
    assert.equal(
      reader.feed(c, (m) => (out.push(Buffer.from(m)), true)),
      undefined,
    );
  return out;
}

test('messages come out whole however the stream is cut: every cut point, and one byte per chunk', () => {
  for (let cut = 0; cut <= stream.length; cut += cut < 40 || cut > stream.length - 40 ? 1 : 997) {
    assert.deepEqual(readAll([stream.subarray(0, cut), stream.subarray(cut)]), messages, `cut at ${cut}`);
  }
  const bytes = [...stream.subarray(0, 200)].map((b) => Buffer.from([b]));
  const head = readAll(bytes);
  assert.deepEqual(head, messages.slice(0, 2));
  // Three pieces: cuts inside the prefix of the big message, inside its body, and after it.
  for (const a of [7, 8, 10, 12, 500])
    for (const b of [a + 1, a + 3, 40_000, 70_011, 70_013, stream.length - 3])
      assert.deepEqual(readAll([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]), messages, `cut at ${a} and ${b}`);
});

test('a prefix cut in two is checked once it is whole: over the limit is an error there', () => {
  const big = frameMessage(Buffer.alloc(50));
  const reader = new MessageReader(10);
  assert.equal(
    reader.feed(big.subarray(0, 3), () => true),
    undefined,
  );
  assert.deepEqual(
    reader.feed(big.subarray(3), () => assert.fail('no message over the limit')),
    { kind: 'too-large', length: 50 },
  );
});

test('frameHeader + the message is frameMessage', () => {
  const m = Buffer.from('hello');
  assert.deepEqual(Buffer.concat([frameHeader(m.length), m]), frameMessage(m));
});

test('a compressed message and one over the limit are errors; a false from the callback drops the rest', () => {
  const compressed = frameMessage(Buffer.from('x'));
  compressed[0] = 1;
  assert.deepEqual(
    new MessageReader(100).feed(compressed, () => true),
    { kind: 'compressed' },
  );
  assert.deepEqual(
    new MessageReader(4).feed(frameMessage(Buffer.from('12345')), () => true),
    { kind: 'too-large', length: 5 },
  );
  const seen: string[] = [];
  new MessageReader(100).feed(Buffer.concat([frameMessage(Buffer.from('one')), frameMessage(Buffer.from('two'))]), (m) => {
    seen.push(m.toString());
    return false;
  });
  assert.deepEqual(seen, ['one']);
});

test('writeMessage sends the parts as one message, and calls back once they are taken', async () => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const parts = [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')];
  await new Promise<void>((done) => writeMessage(stream, parts, 5, done));
  assert.deepEqual(readAll(chunks), [Buffer.from('abcde')]);
  await new Promise<void>((done) => writeMessage(stream, [], 0, done));
  assert.deepEqual(readAll([Buffer.concat(chunks)]), [Buffer.from('abcde'), Buffer.alloc(0)]);
});
