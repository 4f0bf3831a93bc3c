import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConcurrencyGate } from './concurrency.js';

test('a waiter takes the slot as of the end of the service it waited for, not when the release ran', async () => {
  const gate = new ConcurrencyGate(1);
  const first = await gate.acquire(0);
  assert.equal(first.startedMs, 0);
  const second = gate.acquire(5);
  const third = gate.acquire(30);
  assert.equal(gate.queued, 2);
  // The first service ended at 20; the emulator's loop only got to it later: the next start is still 20.
  first.release(20);
  const s2 = await second;
  assert.equal(s2.startedMs, 20);
  // A waiter that arrived after the previous service ended starts at its arrival.
  s2.release(25);
  const s3 = await third;
  assert.equal(s3.startedMs, 30);
  s3.release(40);
  assert.equal(gate.inFlight, 0);
  assert.equal(gate.queued, 0);
});

test('at most `limit` run at once, in arrival order; a second release is ignored; 0 = unlimited', async () => {
  const gate = new ConcurrencyGate(2);
  const a = await gate.acquire(0);
  const b = await gate.acquire(1);
  const order: string[] = [];
  const c = gate.acquire(2).then((s) => (order.push('c'), s));
  const d = gate.acquire(3).then((s) => (order.push('d'), s));
  assert.equal(gate.inFlight, 2);
  assert.equal(gate.queued, 2);
  a.release(10);
  a.release(11);
  await c;
  assert.deepEqual(order, ['c']);
  assert.equal(gate.queued, 1);
  b.release(12);
  assert.equal((await d).startedMs, 12);
  const open = new ConcurrencyGate(0);
  const slots = await Promise.all([open.acquire(1), open.acquire(2), open.acquire(3)]);
  assert.deepEqual(
    slots.map((s) => s.startedMs),
    [1, 2, 3],
  );
});
