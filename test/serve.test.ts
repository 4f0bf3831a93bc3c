import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServe } from '../src/cli/serve.js';
import { silentLogger } from '../src/log.js';
import { testServeOptions } from './helpers/serve-options.js';

test('proxima serve on the embedded default: admin endpoints answer with the real state', async (t) => {
  const handle = await startServe(testServeOptions(), silentLogger());
  t.after(() => handle.close());
  const base = `http://${handle.addresses.admin}`;
  const get = async (path: string) => {
    const r = await fetch(base + path);
    return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
  };

  assert.equal((await get('/healthz')).status, 200);
  const ready = await get('/readyz?verbose');
  assert.equal(ready.status, 200, ready.body);

  const metrics = await get('/metrics');
  assert.match(metrics.body, /^# HELP proxima_topology_reloads_total/m);
  assert.match(metrics.body, /proxima_topology_reloads_total\{outcome="applied"\} 1/);
  assert.match(metrics.body, /proxima_assignment_recomputes_total \d+/);

  const a = JSON.parse((await get('/debug/assignments?service=default/hello')).body);
  assert.equal(a.policy, 'nearest');
  const edge2 = a.services['default/hello'].gateways['edge-2'];
  assert.equal(edge2.localities[0].node, 'edge-2');
  assert.equal(edge2.localities[0].sharePercent, 100);
  assert.deepEqual(edge2.localities[0].endpoints, ['127.0.0.1:9002']);

  const topo = JSON.parse((await get('/debug/topology')).body);
  assert.equal(topo.rtt['edge-1']['cloud-1'].rttMs, 50);
  assert.equal(topo.rtt['edge-1']['cloud-1'].source, 'configured');

  const ui = await get('/ui');
  assert.match(ui.type, /text\/html/);
  assert.ok(!/https?:\/\/(?!127\.)/.test(ui.body.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')), 'no external URLs (no CDN)');
  const svg = await get('/ui/rtt.svg');
  assert.match(svg.type, /image\/svg\+xml/);
  assert.equal(svg.body.match(/class="cell"/g)?.length, 9);

  assert.equal((await get('/debug/nope')).status, 404);
  assert.equal((await fetch(base + '/metrics', { method: 'POST' })).status, 405);
});

test('a refused topology edit: /readyz stays ready with a warning, /debug/source and /ui say what is in force', async (t) => {
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'proxima-serve-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'topology.yaml');
  const good = readFileSync(new URL('../../examples/topology.yaml', import.meta.url), 'utf8');
  writeFileSync(path, good);
  const handle = await startServe(testServeOptions({ topologyPath: path }), silentLogger());
  t.after(() => handle.close());
  const base = `http://${handle.addresses.admin}`;
  assert.equal(await (await fetch(`${base}/readyz`)).text(), 'ok\n');

  writeFileSync(path, good.replace('rtt: 20', 'rtt: twenty'));
  let body = '';
  for (let i = 0; i < 100 && !body.includes('warning'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    body = await (await fetch(`${base}/readyz`)).text();
  }
  assert.match(
    body,
    /^ok\nwarning: topology: file refused since \S+, serving the last good one \([0-9a-f]+ of \S+\): line \d+, column \d+: latency\[0\]\.rtt/,
  );
  const source = (await (await fetch(`${base}/debug/source`)).json()) as { status: string; lastGood: { nodes: number }; errors: unknown[] };
  assert.equal(source.status, 'invalid');
  assert.equal(source.lastGood.nodes, 3);
  assert.equal(source.errors.length, 1);
  const ui = await (await fetch(`${base}/ui`)).text();
  assert.match(ui, /id="topology-warning"/);
  assert.match(ui, /fetch\('\/debug\/source'\)/);
});
