import assert from 'node:assert/strict';
import { test } from 'node:test';
import { continueReply, destinationReply, destinationReplySlow, immediateReply } from '../extproc/codec.js';
import { setHeaderValue } from './extproc-reply.js';

test('reads the destination the ext_proc server set, in raw_value or value, with fallbacks and extra headers around it', () => {
  for (const rawValues of [true, false]) {
    for (const build of [destinationReply, destinationReplySlow]) {
      const reply = build({
        destination: '[fd00::1]:8012',
        fallbacks: ['10.0.0.2:8012', '10.0.0.3:8012'],
        extraHeaders: { 'Knative-Serving-Revision': 'hello-00002' },
        rawValues,
      });
      assert.equal(setHeaderValue(reply, 'x-proxima-destination'), '[fd00::1]:8012');
      assert.equal(setHeaderValue(reply, 'x-proxima-destination-fallback'), '10.0.0.2:8012,10.0.0.3:8012');
      assert.equal(setHeaderValue(reply, 'knative-serving-revision'), 'hello-00002');
    }
  }
});

test('no destination in a CONTINUE, an immediate response or garbage', () => {
  assert.equal(setHeaderValue(continueReply('request_headers'), 'x-proxima-destination'), undefined);
  assert.equal(setHeaderValue(immediateReply(503, 'no ready endpoint'), 'x-proxima-destination'), undefined);
  assert.equal(setHeaderValue(Buffer.from([0x0a, 0x7f, 0x01]), 'x-proxima-destination'), undefined);
  assert.equal(setHeaderValue(Buffer.alloc(0), 'x-proxima-destination'), undefined);
});
