import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envoyProtos } from '../../protos/envoy.js';
import { deserializeDiscoveryRequest, parseDiscoveryRequest } from './request.js';

const Req = () => envoyProtos().type('envoy.service.discovery.v3.DiscoveryRequest');
const encode = (o: Record<string, unknown>): Buffer => Buffer.from(Req().encode(Req().fromObject(o)).finish());

test('parses every field protobufjs writes, names lazily', () => {
  const bytes = encode({
    version_info: 'v1',
    node: { id: 'gw', locality: { sub_zone: 'edge-1' } },
    resource_names: ['a', 'b/c'],
    type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    response_nonce: '3',
    error_detail: { code: 3, message: 'bad' },
  });
  const r = parseDiscoveryRequest(bytes);
  assert.equal(r.version_info, 'v1');
  assert.equal(r.node?.id, 'gw');
  assert.equal(r.node?.locality?.sub_zone, 'edge-1');
  assert.deepEqual(r.resource_names, ['a', 'b/c']);
  assert.equal(r.type_url, 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
  assert.equal(r.response_nonce, '3');
  assert.deepEqual(r.error_detail, { code: 3, message: 'bad' });
});

test('namesBytes: equal lists give equal bytes, any difference different bytes', () => {
  const key = (names: string[], extra: Record<string, unknown> = {}) =>
    parseDiscoveryRequest(encode({ resource_names: names, ...extra })).namesBytes.toString('hex');
  assert.equal(key(['a', 'b']), key(['a', 'b'], { response_nonce: '9', version_info: 'x' }));
  assert.notEqual(key(['a', 'b']), key(['b', 'a']));
  assert.notEqual(key(['ab']), key(['a', 'b']));
  assert.notEqual(key([]), key(['']));
});

test('namesBytes: names interleaved with other fields compare like the same names written together', () => {
  const Type = Req();
  const names = Buffer.from(Type.encode(Type.fromObject({ resource_names: ['a', 'b'] })).finish());
  const nonce = Buffer.from(Type.encode(Type.fromObject({ response_nonce: '7' })).finish());
  const nameA = names.subarray(0, 3);
  const nameB = names.subarray(3);
  const interleaved = parseDiscoveryRequest(Buffer.concat([nameA, nonce, nameB]));
  assert.deepEqual(interleaved.resource_names, ['a', 'b']);
  assert.ok(interleaved.namesBytes.equals(parseDiscoveryRequest(names).namesBytes));
  assert.ok(!interleaved.namesBytes.equals(parseDiscoveryRequest(Buffer.concat([nameB, nonce, nameA])).namesBytes));
});

test('garbage bytes become a malformed marker, never a throw', () => {
  assert.deepEqual(Object.keys(deserializeDiscoveryRequest(Buffer.from([0x0a, 0xff]))), ['malformed']);
  assert.ok('malformed' in deserializeDiscoveryRequest(Buffer.from([0x0f])));
});

test('a repeated thousand-name list (every ACK after a change) parses to the same names and counts as the first one', () => {
  const Type = Req();
  const names = Array.from({ length: 1000 }, (_, i) => `service-${i}.default`);
  const ack = (list: string[], nonce: string) =>
    Buffer.from(Type.encode(Type.fromObject({ version_info: 'v', resource_names: list, type_url: 'T', response_nonce: nonce })).finish());
  const first = parseDiscoveryRequest(ack(names, '1'));
  for (const [label, list] of [
    ['the same list', names],
    ['one more name right after it', [...names, 'extra']],
    ['the last name changed', [...names.slice(0, -1), 'service-999.other']],
    ['a longer last name', [...names.slice(0, -1), 'service-999.default-and-then-some']],
    ['the same list again', names],
  ] as const) {
    const r = parseDiscoveryRequest(ack([...list], '2'));
    assert.deepEqual(r.resource_names, list, label);
    assert.equal(r.nameCount, list.length, label);
    assert.equal(r.longestNameBytes, Math.max(...list.map((n) => Buffer.byteLength(n))), label);
    assert.equal(r.response_nonce, '2', label);
    assert.equal(r.type_url, 'T', label);
    assert.equal(r.namesBytes.equals(first.namesBytes), list === names, label);
  }
  // The list split by another field: the names after it still count.
  const run = Buffer.from(Type.encode(Type.fromObject({ resource_names: names })).finish());
  const tail = Buffer.from(Type.encode(Type.fromObject({ response_nonce: '3', resource_names: ['late'] })).finish());
  const split = parseDiscoveryRequest(Buffer.concat([run, tail]));
  assert.deepEqual(split.resource_names, [...names, 'late']);
  assert.equal(split.nameCount, 1001);
  // Cut short inside the list: an error, not a read past the end.
  assert.throws(() => parseDiscoveryRequest(run.subarray(0, run.length - 3)), /truncated/);
});

test('nameSet: requests repeating one long list share one set of exactly its names; other lists get their own', () => {
  const many = Array.from({ length: 40 }, (_, i) => `svc-${i}`);
  const first = parseDiscoveryRequest(encode({ resource_names: many, type_url: 't' }));
  const ack = parseDiscoveryRequest(encode({ resource_names: many, response_nonce: '4', version_info: 'v' }));
  const set = first.nameSet();
  assert.ok(set);
  assert.deepEqual([...set].sort(), [...many].sort());
  assert.equal(ack.nameSet(), set);
  assert.equal(ack.resource_names, first.resource_names);
  const other = parseDiscoveryRequest(encode({ resource_names: [...many.slice(1), 'svc-new'] }));
  assert.notEqual(other.nameSet(), set);
  assert.ok(other.nameSet()!.has('svc-new') && !other.nameSet()!.has('svc-0'));
  // The first list again, after another became the cached one: equal content, a fresh set.
  assert.deepEqual([...parseDiscoveryRequest(encode({ resource_names: many })).nameSet()!].sort(), [...many].sort());
  assert.equal(parseDiscoveryRequest(encode({ resource_names: ['a', 'b'] })).nameSet(), undefined, 'short lists are not shared');
});
