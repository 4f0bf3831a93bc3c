import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeHandle } from '../src/cli/serve.js';
import { fixture, send } from '../src/extender/testing.js';
import { silentLogger } from '../src/log.js';
import { testServeOptions } from './helpers/serve-options.js';

/** The extender as `proxima serve` runs it: its own listener, /debug/placements and /metrics on admin. */
describe('extender inside proxima serve', () => {
  let handle: ServeHandle;
  const port = (addr: string) => Number(addr.slice(addr.lastIndexOf(':') + 1));

  before(async () => {
    handle = await startServe(testServeOptions(), silentLogger());
  });
  after(() => handle.close());

  it('answers filter/prioritize and shows the placement on /debug/placements', async () => {
    const ext = port(handle.addresses.extender);
    assert.ok(ext > 0, handle.addresses.extender);
    // The example topology has default/hello; map the fixture pod to it through its service label.
    const args = JSON.parse(fixture('args-knative-nodenames.json')) as {
      Pod: { metadata: { labels: Record<string, string> } };
      NodeNames: string[];
    };
    args.Pod.metadata.labels['serving.knative.dev/service'] = 'hello';
    args.NodeNames = ['edge-1', 'edge-2', 'cloud-1'];
    const f = await send(ext, 'POST', '/filter', JSON.stringify(args));
    assert.equal(f.status, 200);
    assert.deepEqual((JSON.parse(f.text) as { NodeNames: string[] }).NodeNames, ['edge-1', 'edge-2', 'cloud-1']);
    const p = await send(ext, 'POST', '/prioritize', JSON.stringify(args));
    assert.equal(p.status, 200);
    assert.equal((JSON.parse(p.text) as unknown[]).length, 3);
    const admin = port(handle.addresses.admin);
    const dbg = JSON.parse((await send(admin, 'GET', '/debug/placements')).text) as { pending: Array<{ service: string }> };
    assert.deepEqual(
      dbg.pending.map((x) => x.service),
      ['default/hello'],
    );
    const metrics = (await send(admin, 'GET', '/metrics')).text;
    assert.match(metrics, /proxima_extender_requests_total\{verb="prioritize",outcome="ok"\} 1/);
  });
});
