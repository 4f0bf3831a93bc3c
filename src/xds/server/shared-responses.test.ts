import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypeUrl } from '../resources/types.js';
import { encodedFromBytes, versionOf } from '../snapshot/encoded.js';
import { SharedSotwResponses } from './shared-responses.js';
import { gatherSotwResponse, GatheredResponse, type SotwResponseFields } from './wire.js';

const encodeSotwResponse = (f: SotwResponseFields): Buffer => gatherSotwResponse(f).toBuffer();

const bytes = (r: Buffer | GatheredResponse): Buffer => (r instanceof GatheredResponse ? r.toBuffer() : r);

const res = (name: string, content = name) => encodedFromBytes(TypeUrl.Cluster, name, Buffer.from(content));

test('shared SotW responses: the same response twice is one buffer, with the bytes encodeSotwResponse writes', () => {
  const shared = new SharedSotwResponses();
  const resources = [res('a'), res('b'), res('c')];
  const fields = { versionInfo: versionOf(resources), typeUrl: TypeUrl.Cluster, nonce: '1', resources };
  const first = shared.encode(fields);
  const second = shared.encode({ ...fields, resources: [...resources] });
  const third = shared.encode({ ...fields, resources: [...resources] });
  for (const b of [first, second, third]) assert.ok(bytes(b).equals(encodeSotwResponse(fields)));
  assert.ok(first instanceof GatheredResponse, 'the first sighting is not kept');
  assert.equal(second, third, 'kept from the second sighting on');
  assert.notEqual(shared.encode({ ...fields, nonce: '2' }), third, 'another nonce is another response');
  assert.ok(bytes(shared.encode({ ...fields, nonce: '2' })).equals(encodeSotwResponse({ ...fields, nonce: '2' })));
});

test('shared SotW responses: an equal version string with other resources (or another order) never gets the kept bytes', () => {
  const shared = new SharedSotwResponses();
  const [a, b, c] = [res('a'), res('b'), res('c')];
  const version = versionOf([a, b, c]);
  const fields = { versionInfo: version, typeUrl: TypeUrl.Cluster, nonce: '1', resources: [a, b, c] };
  shared.encode(fields);
  const kept = shared.encode(fields);
  // Same version string (as a hash collision would give), other content: encoded afresh.
  const other = [a, b, res('c', 'c-other')];
  assert.ok(bytes(shared.encode({ ...fields, resources: other })).equals(encodeSotwResponse({ ...fields, resources: other })));
  const reordered = [c, b, a];
  const got = shared.encode({ ...fields, resources: reordered });
  assert.notEqual(got, kept);
  assert.ok(bytes(got).equals(encodeSotwResponse({ ...fields, resources: reordered })));
});

test('shared SotW responses: bounded; the least recently used response is forgotten first', () => {
  const shared = new SharedSotwResponses(2);
  const rs = [res('a'), res('b')];
  const fields = (nonce: string) => ({ versionInfo: versionOf(rs), typeUrl: TypeUrl.Cluster, nonce, resources: rs });
  shared.encode(fields('1'));
  const one = shared.encode(fields('1'));
  shared.encode(fields('2'));
  assert.equal(shared.encode(fields('1')), one, 'used again: still kept');
  shared.encode(fields('3')); // forgets nonce 2, the least recently used
  shared.encode(fields('4')); // forgets nonce 1
  assert.notEqual(shared.encode(fields('1')), one);
});
