import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowControl, type FlowParticipant } from './flow.js';

function participant(log: string[], name: string): FlowParticipant {
  return { outstandingBytes: 0, resume: () => log.push(name) };
}

test('a stream over its own limit waits; flushing its bytes resumes it', () => {
  const flow = new FlowControl({ maxOutstandingBytes: 1000, maxStreamOutstandingBytes: 100 });
  const log: string[] = [];
  const a = participant(log, 'a');
  assert.equal(flow.blocked(a), false);
  const release = flow.track(a, 150);
  assert.equal(flow.blocked(a), true, 'one big response goes out, the next waits');
  flow.wait(a);
  release();
  release();
  assert.deepEqual(log, ['a']);
  assert.equal(flow.outstandingBytes, 0);
});

test('the server-wide limit holds every stream back until bytes drain, in arrival order', () => {
  const flow = new FlowControl({ maxOutstandingBytes: 100, maxStreamOutstandingBytes: 1000 });
  const log: string[] = [];
  const a = participant(log, 'a');
  const b = participant(log, 'b');
  const c = participant(log, 'c');
  const release = flow.track(a, 100);
  assert.equal(flow.blocked(b), true);
  flow.wait(c);
  flow.wait(b);
  release();
  assert.deepEqual(log, ['c', 'b']);
});

test('a closed stream gives its bytes back; late callbacks do not go negative', () => {
  const flow = new FlowControl({ maxOutstandingBytes: 100, maxStreamOutstandingBytes: 1000 });
  const log: string[] = [];
  const a = participant(log, 'a');
  const b = participant(log, 'b');
  const release = flow.track(a, 100);
  flow.wait(b);
  flow.forget(a);
  assert.deepEqual(log, ['b']);
  release();
  assert.equal(flow.outstandingBytes, 0);
});
