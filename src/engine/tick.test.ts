import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReconcileTick } from './tick.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('requests in one burst coalesce into one run, after the debounce', async () => {
  let runs = 0;
  const tick = new ReconcileTick({ debounceMs: 20, maxDelayMs: 200 }, { run: () => runs++ });
  for (let i = 0; i < 100; i++) tick.request();
  assert.equal(runs, 0, 'nothing runs synchronously');
  assert.equal(tick.pending, true);
  await sleep(80);
  assert.equal(runs, 1);
  assert.equal(tick.pending, false);
  tick.close();
});

test('a steady trickle of requests still runs every maxDelayMs, not only when it stops', async () => {
  let runs = 0;
  const tick = new ReconcileTick({ debounceMs: 50, maxDelayMs: 100 }, { run: () => runs++ });
  const until = Date.now() + 450;
  while (Date.now() < until) {
    tick.request();
    await sleep(10);
  }
  // Debounce alone would never fire while requests keep coming every 10 ms < 50 ms.
  assert.ok(runs >= 2, `ran ${runs} times during the trickle`);
  tick.close();
});

test('notBeforeMs holds a run back; runNow runs at once; close cancels', async () => {
  let runs = 0;
  const holdUntil = performance.now() + 120;
  const tick = new ReconcileTick({ debounceMs: 1, maxDelayMs: 10 }, { run: () => runs++, notBeforeMs: () => holdUntil });
  tick.request();
  await sleep(60);
  assert.equal(runs, 0, 'held back by notBeforeMs');
  await sleep(120);
  assert.equal(runs, 1);
  tick.request();
  tick.runNow();
  assert.equal(runs, 2);
  assert.equal(tick.pending, false);
  tick.request();
  tick.close();
  await sleep(30);
  assert.equal(runs, 2, 'nothing runs after close');
});
