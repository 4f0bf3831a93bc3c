/**
 * Route-level interop: a Knative-style traffic split (two revisions, 70/30) reaches real gRPC
 * clients through Proxima's gRPC route configuration (weighted_clusters), and a dial target with
 * a port (`xds:///host:80`) finds its API listener.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nearestPolicy } from '../src/policy/nearest.js';
import { DEFAULT_MODEL_DEFAULTS, type HttpRoute } from '../src/model/types.js';
import { startBackends } from './peers/backends.js';
import { cCoreUnavailable, share, startClient, type ClientKind, type GatewayClient } from './peers/harness.js';
import { startPlane } from './peers/plane.js';

const HOST = 'split.default.svc.cluster.local';

test('traffic split 70/30 between revisions is honoured by both clients (host and host:80 targets)', async (t) => {
  const why = cCoreUnavailable();
  if (why && process.env.CI) throw new Error(`C-core client required in CI: ${why}`);
  if (why) t.diagnostic(`SKIP c-core client: ${why}`);
  const backends = await startBackends(['split-00001', 'split-00002']);
  const p = await startPlane({ policy: nearestPolicy });
  const clients: GatewayClient[] = [];
  try {
    const node = { name: 'edge-1', zone: 'edge-a', region: 'edge', ready: true, labels: {} };
    p.store.replaceTopology({
      nodes: [node],
      latency: [],
      defaults: DEFAULT_MODEL_DEFAULTS,
      services: backends.backends.map((b) => ({
        name: `default/${b.id}`,
        hosts: [],
        protocol: 'grpc' as const,
        endpoints: [{ address: '127.0.0.1', port: b.port, node: 'edge-1', ready: true, capacity: 10 }],
      })),
    });
    const route: HttpRoute = {
      name: 'default/split',
      hosts: [HOST],
      visibility: ['external', 'internal'],
      rules: [
        {
          pathPrefix: '/',
          headers: [],
          splits: [
            { service: 'default/split-00001', percent: 70, appendHeaders: { 'Knative-Serving-Revision': 'split-00001' } },
            { service: 'default/split-00002', percent: 30, appendHeaders: { 'Knative-Serving-Revision': 'split-00002' } },
          ],
          appendHeaders: {},
          timeoutMs: 0,
        },
      ],
    };
    p.store.setRoutes([route]);
    const placement: Array<[ClientKind, string]> = [
      ['grpc-js', `xds:///${HOST}:80`],
      ['c-core', `xds:///${HOST}`],
    ];
    for (const [kind, target] of placement.filter(([k]) => k === 'grpc-js' || !why))
      clients.push(await startClient(kind, { xdsPort: p.port, node: 'edge-1', target }));
    await Promise.all(clients.map((c) => c.run(5)));
    const n = 1000;
    const runs = await Promise.all(clients.map((c) => c.run(n)));
    clients.forEach((c, i) => {
      const r = runs[i]!;
      assert.deepEqual(r.errors, {}, `${c.kind}: ${JSON.stringify(r)}`);
      assert.ok(Math.abs(share(r, 'split-00001') - 0.7) <= 0.05, `${c.kind}: ${JSON.stringify(r)}`);
      t.diagnostic(`${c.kind}: split-00001 ${(share(r, 'split-00001') * 100).toFixed(1)} % over ${n} RPCs`);
    });
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await p.close();
    await backends.close();
  }
});
