/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped debug JSON */
/**
 * Two `proxima serve --kubernetes` replicas against one kube-apiserver STAND-IN (test/kube/
 * apiserver-standin.ts; there is no kube-apiserver here): each hears a different probe agent (real
 * probe protocol over gRPC), they exchange measurements through ProximaMeasurement objects and
 * must then compute byte-identical assignments. A real @grpc/grpc-js-xds gateway reaches the
 * replicas through one address (a TCP forwarder playing the Service: grpc-js-xds 1.14 uses only
 * the first bootstrap `xds_servers` entry) and keeps sending at a steady rate while replica 1 shuts
 * down: no RPC may fail, and replica 2 must then steer it (an EndpointSlice flip moves traffic).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { ServeHandle } from '../src/cli/serve.js';
import { probeProtos, type ProbeStreamClient } from '../src/probe/protocol.js';
import {
  endpointSliceFor,
  EXTERNAL_HOST,
  getJson,
  portOf,
  serveKubernetes,
  startKnativeStandIn,
  startRevisionPods,
  until,
} from './kube/e2e-cluster.js';
import { failures, startSteadyGateway, total, type Window } from './kube/steady-gateway.js';
import { startForwarder } from './kube/tcp-forwarder.js';

const R1 = 'hello-00001';
const R2 = 'hello-00002';

/** A probe agent on `node` that says hello and sends one report, over the real probe protocol. */
function reportRtt(xdsAddress: string, node: string, rows: Array<[string, number]>): { call: ProbeStreamClient; client: grpc.Client } {
  const client = new (probeProtos().Client)(xdsAddress, grpc.credentials.createInsecure());
  const call = client.Connect();
  call.on('error', () => undefined);
  call.write({ hello: { node, probe_address: `127.0.0.1:${9000 + Number(node.slice(-1))}`, version: 'test' } });
  const now = Date.now();
  call.write({
    report: {
      node,
      sent_at_unix_ms: now,
      rows: rows.map(([peer, rttMs]) => ({ peer, rtt_ms: rttMs, reachable: true, samples: 10, measured_at_unix_ms: now })),
    },
  });
  return { call, client };
}

/** /debug/assignments without `generation` (a per-process count of model updates, not routing state). */
async function assignments(h: ServeHandle): Promise<string> {
  const { generation: _generation, ...rest } = await getJson(h, '/debug/assignments');
  return JSON.stringify(rest);
}

test('k8s e2e (stand-in apiserver): replicas agree byte for byte, and a gateway rides through a replica shutdown', async (t) => {
  const pods = await startRevisionPods([
    { revision: R1, node: 'edge-1' },
    { revision: R1, node: 'edge-2' },
    { revision: R1, node: 'cloud-1' },
    { revision: R2, node: 'edge-1' },
    { revision: R2, node: 'cloud-1' },
  ]);
  t.after(() => pods.close());
  const { api, url } = await startKnativeStandIn(pods, { containerConcurrency: 1000 });
  t.after(() => api.stop());
  const r1 = await serveKubernetes(url, { replicaId: 'r1' });
  let r1Closed = false;
  t.after(() => (r1Closed ? undefined : r1.close()));
  const r2 = await serveKubernetes(url, { replicaId: 'r2' });
  t.after(() => r2.close());

  // Replica 1 hears the probe agent of edge-1, replica 2 that of edge-2.
  const agents = [
    reportRtt(r1.addresses.xds, 'edge-1', [
      ['edge-2', 8],
      ['cloud-1', 90],
    ]),
    reportRtt(r2.addresses.xds, 'edge-2', [
      ['edge-1', 8],
      ['cloud-1', 40],
    ]),
  ];
  t.after(() => {
    for (const a of agents) {
      a.call.cancel();
      a.client.close();
    }
  });
  await until('both measurements published as ProximaMeasurement objects', () =>
    assert.deepEqual(
      api
        .list('ProximaMeasurement')
        .map((o) => o['metadata']['name'])
        .sort(),
      ['r1', 'r2'],
    ),
  );
  for (const h of [r1, r2]) {
    await until('both replicas merged both agents', async () => {
      const topo = await getJson(h, '/debug/topology');
      return (
        topo.rtt['edge-1']['cloud-1'].rttMs === 90 &&
        topo.rtt['edge-2']['cloud-1'].rttMs === 40 &&
        topo.rtt['edge-2']['edge-1'].source === 'measured'
      );
    });
  }
  const same = await until('byte-identical /debug/assignments', async () => {
    const [a, b] = await Promise.all([assignments(r1), assignments(r2)]);
    return a === b ? a : false;
  });
  const view = JSON.parse(same);
  assert.ok(same.length > 500);
  // The measurements steer both: edge-2 has no hello-00002 pod and edge-1 (8 ms) beats cloud-1 (40 ms).
  assert.equal(view.services[`default/${R2}`].gateways['edge-2'].localities[0].node, 'edge-1');
  assert.equal(view.services[`default/${R2}`].gateways['edge-2'].localities[0].rttMs, 8);

  // The gateway on edge-2: bootstrap lists the forwarder (→ r1, else r2) and r2 itself.
  const fwd = await startForwarder([portOf(r1.addresses.xds), portOf(r2.addresses.xds)]);
  t.after(() => fwd.close());
  const bootstrap = {
    xds_servers: [fwd.port, portOf(r2.addresses.xds)].map((p) => ({
      server_uri: `127.0.0.1:${p}`,
      channel_creds: [{ type: 'insecure' }],
      server_features: ['xds_v3'],
    })),
    node: { id: 'gateway-edge-2', cluster: 'proxima-test', locality: { zone: '', sub_zone: 'edge-2' } },
  };
  const gw = startSteadyGateway(bootstrap, `xds:///${EXTERNAL_HOST}`);
  t.after(() => gw.close());
  const warm = await gw.run(20);
  assert.deepEqual(warm.errors, {}, gw.stderr());
  assert.equal(fwd.openTo(portOf(r1.addresses.xds)) > 0, true, 'the gateway talks to replica 1 first');
  const onR = async (h: ServeHandle) => ((await getJson(h, '/debug/clients')) as any[]).some((c) => c.gatewayNode === 'edge-2');
  assert.equal(await onR(r1), true);
  assert.equal(await onR(r2), false);

  const windows: Window[] = [];
  const take = async () => {
    const w = await gw.take();
    windows.push(w);
    return w;
  };
  await gw.start(10);
  await until('steady traffic flows', async () => {
    await take();
    return windows.reduce((a, w) => a + total(w), 0) >= 20;
  });
  const before = windows.reduce((a, w) => ({ ...a, ...w.counts }), {} as Record<string, number>);
  assert.ok(
    Object.keys(before).every((id) => id === `${R1}@edge-2` || id === `${R2}@edge-1`),
    JSON.stringify(before),
  );

  // Replica 1 goes away; the gateway keeps its config and its backends keep answering.
  const closeAt = windows.length;
  const closing = Date.now();
  await r1.close();
  r1Closed = true;
  const closeMs = Date.now() - closing;
  await until(
    'the gateway re-subscribed on replica 2',
    async () => {
      await take();
      return onR(r2);
    },
    15_000,
    100,
  );
  const meanwhile = windows.slice(closeAt).reduce((a, w) => a + total(w), 0);
  assert.ok(meanwhile > 0, 'RPCs kept flowing while the gateway had no control plane');
  t.diagnostic(`replica 1 closed in ${closeMs} ms; ${meanwhile} RPCs answered until the gateway was back on replica 2`);
  assert.equal(fwd.openTo(portOf(r1.addresses.xds)), 0);
  const acked = await until('replica 2 sees every type ACKed', async () => {
    const c = ((await getJson(r2, '/debug/clients')) as any[]).find((x) => x.gatewayNode === 'edge-2');
    return c && c.types.length >= 4 && c.types.every((x: any) => x.versionSent !== null && x.versionAcked === x.versionSent) ? c : false;
  });
  assert.ok(acked);

  // Only replica 2 can steer the gateway now: hello-00001's edge-2 pod stops being ready.
  api.apply(endpointSliceFor(pods.pod(R1, 'edge-2'), false));
  await until(
    'edge-2 traffic of hello-00001 moved to edge-1',
    async () => {
      const w = await take();
      return total(w) >= 10 && (w.counts[`${R1}@edge-1`] ?? 0) > 0 && (w.counts[`${R1}@edge-2`] ?? 0) === 0;
    },
    15_000,
    200,
  );
  windows.push(await gw.stop());
  const all = windows.reduce((a, w) => a + total(w), 0);
  const failed = windows.reduce((a, w) => a + failures(w), 0);
  const errors = windows.flatMap((w) => Object.entries(w.errors));
  assert.equal(failed, 0, `no RPC failed (of ${all + failed}): ${JSON.stringify(errors)}`);
  assert.ok(all >= 40, `steady traffic: ${all} RPCs`);
  t.diagnostic(`${all} RPCs, 0 failed, across the shutdown of replica 1`);
});
