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
