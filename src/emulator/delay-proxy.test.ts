import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { DelayProxy } from './delay-proxy.js';
import { MutableDelayMatrix } from './netem.js';
import { mulberry32 } from '../util/rng.js';

test('delay proxy adds the configured RTT per source node and keeps bytes in order', async (t) => {
  const echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  t.after(() => echo.close());
  const delays = new MutableDelayMatrix();
  delays.set('a', 'b', { rttMs: 60, jitterMs: 0 });
  const proxy = new DelayProxy({
    listenHost: '127.0.0.1',
    listenPort: 0,
    targetHost: '127.0.0.1',
    targetPort: (echo.address() as AddressInfo).port,
    node: 'b',
    nodeOfAddress: (ip) => (ip === '127.0.9.1' ? 'a' : undefined),
    delays,
    rng: mulberry32(1),
  });
  const port = await proxy.listen();
  t.after(() => proxy.close());

  async function roundTrip(localAddress: string): Promise<{ ms: number; data: string }> {
    const sock = createConnection({ host: '127.0.0.1', port, localAddress });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const started = performance.now();
    const payload = Array.from({ length: 50 }, (_, i) => `chunk-${i};`).join('');
    let got = '';
    const done = new Promise<void>((r) =>
      sock.on('data', (d) => {
        got += d.toString();
        if (got.length >= payload.length) r();
      }),
    );
    for (let i = 0; i < 50; i++) sock.write(`chunk-${i};`);
    await done;
    const ms = performance.now() - started;
    sock.destroy();
    return { ms, data: got === payload ? 'in order' : got };
  }

  const far = await roundTrip('127.0.9.1');
  assert.equal(far.data, 'in order');
  assert.ok(far.ms >= 58 && far.ms < 200, `delayed round trip took ${far.ms} ms`);
  const near = await roundTrip('127.0.0.1');
  assert.ok(near.ms < 30, `undelayed round trip took ${near.ms} ms`);
});
