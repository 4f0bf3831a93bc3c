import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envoyProtos } from '../protos/envoy.js';
import { decodeRequest, decodeRequestSlow, destinationReply, destinationReplySlow, encodeRequest, type DecodedRequest } from './codec.js';
import { fastDecode, knownFields } from './wire.js';

// Minimal protobuf builder so tests can place unknown fields and odd shapes anywhere.
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const tag = (field: number, wt: number): number[] => varint(field * 8 + wt);
const ld = (field: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([...tag(field, 2), ...varint(body.length)]), body]);
};
const s = (field: number, v: string): Buffer => ld(field, Buffer.from(v, 'utf8'));
const vi = (field: number, n: number): Buffer => Buffer.from([...tag(field, 0), ...varint(n)]);
const fixed64 = (field: number): Buffer => Buffer.from([...tag(field, 1), 1, 2, 3, 4, 5, 6, 7, 8]);
const fixed32 = (field: number): Buffer => Buffer.from([...tag(field, 5), 1, 2, 3, 4]);
const unknowns = (): Buffer => Buffer.concat([vi(99, 300), fixed64(100), ld(101, Buffer.from('zz')), fixed32(102)]);

const hv = (key: string, opts: { value?: string; raw?: string; extra?: Buffer } = {}): Buffer =>
  ld(
    1,
    s(1, key),
    opts.value !== undefined ? s(2, opts.value) : Buffer.alloc(0),
    opts.raw !== undefined ? s(3, opts.raw) : Buffer.alloc(0),
    opts.extra ?? Buffer.alloc(0),
  );
const headersMsg = (field: 2 | 3, values: Buffer[], extra: Buffer = Buffer.alloc(0)): Buffer => ld(field, ld(1, ...values), extra);

function view(d: DecodedRequest): unknown {
  return { type: d.type, headers: d.headers ? [...d.headers] : undefined, rawValues: d.rawValues, error: d.error };
}

const benchLike = encodeRequest({
  request_headers: {
    headers: {
      headers: Object.entries({
        ':method': 'GET',
        ':path': '/',
        ':authority': 'hello.default.example.com',
        'x-proxima-node': 'edge-1',
      }).map(([key, v]) => ({ key, raw_value: Buffer.from(v) })),
    },
    end_of_stream: true,
  },
});

const table: [string, Buffer, boolean][] = [
  // [name, bytes, must take the fast path]
  ['bench request_headers (raw_value)', benchLike, true],
  ['value headers', encodeRequest({ request_headers: { headers: { headers: [{ key: ':authority', value: 'a.example' }] } } }), true],
  [
    'mixed, duplicate, upper-case, empty key, empty raw_value',
    headersMsg(2, [
      hv('Host', { value: 'One' }),
      hv('host', { raw: 'two' }),
      hv('', { raw: 'nokey' }),
      hv('X-A', { raw: '', value: 'v' }),
      hv('x-b', { value: 'first', raw: 'second' }),
      hv('x-c', { raw: 'héllo ✓' }),
      hv('x-d'),
    ]),
    true,
  ],
  [
    'response_headers',
    encodeRequest({ response_headers: { headers: { headers: [{ key: ':status', raw_value: Buffer.from('200') }] } } }),
    true,
  ],
  ['response_headers without a header map', ld(3), true],
  ['empty message', Buffer.alloc(0), true],
  ['only observability_mode', vi(10, 1), true],
  [
    'unknown fields everywhere',
    Buffer.concat([unknowns(), headersMsg(2, [hv('k', { raw: 'v', extra: unknowns() })], unknowns()), unknowns()]),
    true,
  ],
  ['unknown fields inside the header map', ld(2, ld(1, unknowns(), hv('k', { value: 'v' }), unknowns())), true],
  ['end_of_stream and observability_mode', Buffer.concat([headersMsg(2, [hv('a', { raw: 'b' })], vi(3, 1)), vi(10, 1)]), true],
  ['key repeated inside one header (last wins)', ld(2, ld(1, ld(1, s(1, 'first'), s(1, 'second'), s(2, 'v')))), true],
  ['large header (multi-byte lengths)', headersMsg(2, [hv('x-big', { raw: 'x'.repeat(20_000) })]), true],
  // Shapes the fast reader hands to protobufjs: the outcome must still be the same.
  ['request_body', encodeRequest({ request_body: { body: Buffer.from('hi'), end_of_stream: true } }), false],
  ['response_trailers', encodeRequest({ response_trailers: {} }), false],
  ['attributes', encodeRequest({ request_headers: { headers: { headers: [] } }, attributes: { x: { fields: {} } } }), false],
  ['http headers attributes', ld(2, ld(2, s(1, 'k'))), false],
  ['both headers phases', Buffer.concat([headersMsg(3, [hv('a', { raw: '1' })]), headersMsg(2, [hv('b', { raw: '2' })])]), false],
  ['header map twice', ld(2, ld(1, hv('a', { raw: '1' })), ld(1, hv('b', { raw: '2' }))), false],
  ['metadata_context', ld(8), false],
  ['wrong wire type for request_headers', vi(2, 5), false],
  ['group wire type', Buffer.from([...tag(99, 3), ...tag(99, 4)]), false],
  ['wire type 7', Buffer.from([...tag(5, 7), 0]), false],
  ['truncated length', Buffer.from([0x12, 0x50, 0x0a]), false],
  ['all 0xff', Buffer.alloc(16, 0xff), false],
  ['field number 0', Buffer.from([0x00, 0x01]), false],
];

// Every prefix of real messages (truncation) and seeded random garbage.
for (const [name, buf] of [table[0]!, table[7]!])
  for (let n = 1; n < buf.length; n++) table.push([`${name} cut at ${n}`, buf.subarray(0, n), false]);
let seed = 42;
const rng = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
for (let i = 0; i < 300; i++) {
  const len = Math.floor(rng() * 40);
  table.push([`random ${i}`, Buffer.from(Array.from({ length: len }, () => Math.floor(rng() * 256))), false]);
}

describe('fast ext_proc decoder', () => {
  const known = knownFields((n) => envoyProtos().type(n));

  it('agrees with protobufjs on every message of the table', () => {
    let fast = 0;
    for (const [name, buf, mustBeFast] of table) {
      assert.deepEqual(view(decodeRequest(buf)), view(decodeRequestSlow(buf)), name);
      const f = fastDecode(buf, known);
      if (mustBeFast) assert.ok(f, `${name}: expected the fast path`);
      if (f) fast++;
    }
    assert.ok(fast >= 12);
  });

  it('with a wanted list: the same message type, raw/value choice and wanted headers as the full decode, nothing else', () => {
    const only = new Set([':authority', 'x-proxima-node', 'knative-serving-revision']);
    for (const [name, buf] of table) {
      const full = decodeRequestSlow(buf);
      const some = decodeRequest(buf, only);
      assert.equal(some.type, full.type, name);
      assert.equal(some.rawValues, full.rawValues, name);
      for (const [k, v] of some.headers ?? []) assert.equal(full.headers?.get(k), v, `${name}: ${k}`);
      for (const [k, v] of full.headers ?? []) if (only.has(k) && some.headers) assert.equal(some.headers.get(k), v, `${name}: ${k}`);
    }
  });

  it('falls back for what it does not parse', () => {
    for (const [name, buf, mustBeFast] of table.slice(0, 25)) if (!mustBeFast) assert.equal(fastDecode(buf, known), undefined, name);
  });

  it('decodes the bench message', () => {
    const d = decodeRequest(benchLike);
    assert.equal(d.type, 'request_headers');
    assert.equal(d.rawValues, true);
    assert.equal(d.headers?.get('x-proxima-node'), 'edge-1');
    assert.equal(d.headers?.get(':authority'), 'hello.default.example.com');
  });
});

describe('fast destination reply', () => {
  it('is byte-identical to the protobufjs encoding', () => {
    const extras: Record<string, string>[] = [
      {},
      { 'Knative-Serving-Revision': 'hello-00001' },
      { a: '', 'x-b': 'ünï', c: 'y'.repeat(300) },
    ];
    const destinations = ['10.0.1.1:8012', '[fd00::1]:8012', 'd'.repeat(200), 'e'.repeat(17_000)];
    const fallbacks = [[], ['10.0.2.1:8012'], ['10.0.2.1:8012', '[fd00::2]:80', '10.0.3.1:8012']];
    let n = 0;
    for (const destination of destinations)
      for (const fb of fallbacks)
        for (const extraHeaders of extras)
          for (const rawValues of [true, false]) {
            // Twice: the second call is served from the fragment caches.
            for (let i = 0; i < 2; i++) {
              const r = { destination, fallbacks: fb, extraHeaders, rawValues };
              assert.deepEqual(destinationReply(r), destinationReplySlow(r), JSON.stringify(r).slice(0, 120));
              n++;
            }
          }
    assert.equal(n, 4 * 3 * 3 * 2 * 2);
  });
});
