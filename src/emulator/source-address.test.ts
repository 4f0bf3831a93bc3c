import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { request } from 'undici';
import { bindLoopbackConnectionsTo } from './source-address.js';

test('loopback connections (net and undici) originate from the emulated node address', async (t) => {
  const seen: string[] = [];
  const server = net.createServer((s) => {
    seen.push(s.remoteAddress ?? '');
    s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const original = net.connect;
  t.after(() => {
    net.connect = original;
    net.createConnection = original;
  });
  bindLoopbackConnectionsTo('127.0.9.1');
  const s = net.connect({ host: '127.0.0.1', port });
  s.resume();
  await new Promise((r) => s.once('close', r));
  const r = await request(`http://127.0.0.1:${port}/`);
  await r.body.dump();
  assert.deepEqual(seen, ['127.0.9.1', '127.0.9.1']);
});
