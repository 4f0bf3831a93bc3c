import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { ClusterLoad } from '../src/lrs/parse.js';
import { LoadReportingServer } from '../src/lrs/server.js';
import { silentLogger } from '../src/log.js';
import { RawExtProcClient, requestHeaders, setHeader, startFixture } from './peers/extproc-peer.js';

/**
 * With the ext_proc filter, Envoy sends the requests the picker routed to its ORIGINAL_DST cluster,
 * which reports no load (only EDS clusters carry `lrs_server`, src/xds/resources/clusters.ts): the
 * demand the assignment is solved for must come from the picker's own counts.
 */
test('ext_proc: the requests it routes reach the demand learner as load per gateway node', async () => {
  const reports: Array<{ gateway: string; loads: readonly ClusterLoad[] }> = [];
  const f = await startFixture({ onDemand: (gateway, loads) => reports.push({ gateway, loads }), demandIntervalMs: 200 });
  const lrs = new LoadReportingServer({ store: f.store, log: silentLogger(), registry: new Registry(), reportingIntervalMs: 200 });
  const client = new RawExtProcClient(f.target);
  const route = async (node: string): Promise<string | undefined> => {
    const stream = client.open();
    stream.send(
      requestHeaders({ ':method': 'POST', ':path': '/', ':authority': 'hello.default.svc.cluster.local', 'x-proxima-node': node }),
    );
    const destination = setHeader(await stream.recv(), 'x-proxima-destination');
    stream.call.end(); // Envoy closes the stream when the HTTP request is done
    return destination;
  };
  try {
    for (let i = 0; i < 20; i++) {
      assert.ok(await route('edge-1'), 'a destination was picked');
      assert.ok(await route('not-a-node'), 'an unknown node is routed too');
    }
    const deadline = Date.now() + 5000;
    const routed = () =>
      reports
        .filter((r) => r.gateway === 'edge-1')
        .flatMap((r) => r.loads.flatMap((l) => l.localities))
        .reduce((a, l) => ({ issued: a.issued + l.issued, done: a.done + l.succeeded }), { issued: 0, done: 0 });
    while (routed().done < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(routed(), { issued: 20, done: 20 });
    // A node name the model does not know is routed but never counted (the counts stay bounded).
    assert.ok(reports.every((r) => r.gateway === 'edge-1'));
    // Replayed in arrival order, as `serve` feeds them. Once the requests stop the estimate falls back to 0
    // (a report with late completions but no new requests is a drop in demand; under load the last
    // completions land in a later report than their picks), so its peak shows what was learned.
    let peakRps = 0;
    for (const r of reports) {
      lrs.observeRouted(r.gateway, r.loads);
      peakRps = Math.max(peakRps, f.store.demandRps('edge-1', 'default/hello') ?? 0);
    }
    assert.ok(peakRps > 0, `edge-1's demand learned from the routed requests (peak ${peakRps} rps)`);
  } finally {
    client.close();
    lrs.close();
    await f.close();
  }
});
