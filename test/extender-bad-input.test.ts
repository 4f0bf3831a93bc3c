import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ExtenderServer } from '../src/extender/http.js';
import { fixture, send, testStore } from '../src/extender/testing.js';
import { silentLogger } from '../src/log.js';

/** Bad input never crashes or hangs the extender: every case is answered well inside 5 s. */

const FAST_MS = 5000;

/** Raw request over a socket: lets a test stall or overrun a body. Resolves with the status line. */
function raw(
  port: number,
  head: string,
  write: (sock: import('node:net').Socket) => void,
): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(head);
      write(sock);
    });
    let text = '';
    let firstByteMs = Infinity;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      firstByteMs = Math.min(firstByteMs, performance.now() - started);
      text += d;
    });
    // `ms` is when the reply started to arrive; the server may keep the socket a little longer.
    const done = () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text, ms: firstByteMs });
    sock.on('close', done);
    sock.on('end', done);
    sock.on('error', (err) => (text ? done() : reject(err)));
    sock.setTimeout(FAST_MS, () => sock.destroy(new Error('no reply in time')));
  });
}

describe('extender bad input', () => {
  let server: ExtenderServer;
  let registry: Registry;
  let port: number;

  before(async () => {
    const store = testStore({ nodes: ['cloud-1', 'edge-1', 'edge-2', 'edge-3'], services: { 'default/hello-00001': ['edge-1'] } });
    registry = new Registry();
    server = new ExtenderServer({ store, log: silentLogger(), registry, requestTimeoutMs: 300, maxBodyBytes: 10 * 1024 * 1024 });
    ({ port } = await server.listen({ host: '127.0.0.1', port: 0 }));
  });
  after(() => server.close());

  const cases: Array<[string, string, string, string | undefined, number, RegExp]> = [
    ['malformed JSON', 'POST', '/filter', '{"Pod": {', 400, /malformed JSON/],
    ['not an object', 'POST', '/prioritize', '[1,2]', 400, /JSON object/],
    ['missing Pod', 'POST', '/filter', '{"Nodes":null,"NodeNames":["edge-1"]}', 400, /Pod: missing/],
    ['empty NodeNames', 'POST', '/prioritize', '{"Pod":{},"Nodes":null,"NodeNames":[]}', 400, /empty candidate node list/],
    [
      'empty NodeList',
      'POST',
      '/filter',
      '{"Pod":{},"Nodes":{"metadata":{},"items":[]},"NodeNames":null}',
      400,
      /empty candidate node list/,
    ],
    ['no nodes at all', 'POST', '/filter', '{"Pod":{}}', 400, /neither Nodes/],
    ['empty body', 'POST', '/filter', '', 400, /malformed JSON/],
    ['wrong method', 'GET', '/filter', undefined, 405, /use POST/],
    ['unknown verb', 'POST', '/bind', '{}', 404, /unknown path/],
  ];
  for (const [name, method, path, body, status, re] of cases) {
    it(`${name} → ${status}`, async () => {
      const r = await send(port, method, path, body);
      assert.equal(r.status, status, r.text);
      const json = JSON.parse(r.text) as { Error: string };
      assert.match(json.Error, re);
      if (status === 405) assert.equal(r.headers['allow'], 'POST');
      if (path === '/filter' && status === 400)
        assert.deepEqual(Object.keys(json).sort(), ['Error', 'FailedAndUnresolvableNodes', 'FailedNodes', 'NodeNames', 'Nodes']);
      assert.ok(r.ms < FAST_MS);
    });
  }

  it('a declared body over 10 MiB is refused before it is read', async () => {
    const r = await raw(
      port,
      `POST /filter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${11 * 1024 * 1024}\r\n\r\n`,
      (s) => s.write('{"Pod":'),
    );
    assert.equal(r.status, 413);
    assert.match(r.text, /exceeds the limit of 10485760 bytes/);
    assert.ok(r.ms < FAST_MS);
  });

  it('a chunked body that grows past 10 MiB is cut off while streaming', async () => {
    const payload = Buffer.alloc(1024 * 1024, 0x20);
    const chunk = Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n')]);
    const r = await raw(
      port,
      'POST /prioritize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      (s) => {
        let sent = 0;
        const pump = () => {
          while (sent < 12 && !s.destroyed) {
            sent++;
            if (!s.write(chunk)) {
              s.once('drain', pump);
              return;
            }
          }
        };
        s.on('error', () => undefined);
        pump();
      },
    );
    assert.equal(r.status, 413);
    assert.ok(r.ms < FAST_MS);
  });

  it('a body that stalls is timed out with 408', async () => {
    const r = await raw(port, 'POST /filter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', (s) =>
      s.write('{"Pod":{'),
    );
    assert.equal(r.status, 408);
    assert.match(r.text, /not received within 300 ms/);
    assert.ok(r.ms < FAST_MS);
  });

  it('still answers good requests afterwards and counted every refusal', async () => {
    const r = await send(port, 'POST', '/scheduler/filter', fixture('args-knative-nodenames.json'));
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.text) as { Error: string }).Error, '');
    const m = await registry.metrics();
    assert.match(m, /proxima_extender_requests_total\{verb="filter",outcome="bad_request"\} 5/);
    assert.match(m, /proxima_extender_requests_total\{verb="filter",outcome="too_large"\} 1/);
    assert.match(m, /proxima_extender_requests_total\{verb="prioritize",outcome="too_large"\} 1/);
    assert.match(m, /proxima_extender_requests_total\{verb="filter",outcome="timeout"\} 1/);
    assert.match(m, /proxima_extender_requests_total\{verb="other",outcome="not_found"\} 1/);
  });
});
