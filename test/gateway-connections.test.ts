/**
 * The emulated gateways (src/emulator/gateway-worker.ts: a real @grpc/grpc-js-xds client) keep
 * their upstream connections when only the locality weights change, as Envoy keeps its hosts and
 * their connection pools across EDS updates (envoyproxy/envoy `source/common/upstream/upstream_impl.cc`,
 * `updateDynamicHostList`). Unpatched, grpc-js-xds 1.14 opens a new connection to every endpoint on
 * every push (src/emulator/keep-connections.ts), which biased the demo's gateways toward their own
 * node after each push (issue 19). Real control plane, real backends, TCP connections counted at a
 * forwarding hop in front of each backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import type { GatewayAssignment, Policy, PolicyName } from '../src/policy/types.js';
import { connectionArguments, keepConnectionsAcrossEdsUpdates } from '../src/emulator/keep-connections.js';
import { startBackends, WHO_METHOD, type Backend } from './peers/backends.js';
import { xdsBootstrap } from './peers/harness.js';
import { fileSourceFor, startPlane } from './peers/plane.js';
import { NODES, TARGET, topologyYaml } from './peers/topology.js';

/** A TCP hop in front of a backend that counts the connections it accepted. */
async function countingHop(backend: Backend): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((down) => {
    accepted++;
    const up = connect(backend.port, '127.0.0.1');
    open.add(down).add(up);
    down.pipe(up).pipe(down);
    const end = () => {
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of open) s.destroy();
      }),
  };
}

test('connectionArguments drops only the per-update config selector', () => {
  const args = { 'grpc.internal.config_selector': {}, 'grpc.keepalive_time_ms': 1000, 'grpc.internal.xds_client': 'c' };
  assert.deepEqual(connectionArguments(args), { 'grpc.keepalive_time_ms': 1000, 'grpc.internal.xds_client': 'c' });
});

test('gateway: locality weight pushes move traffic but open no new connections (Envoy keeps its hosts)', async () => {
  grpcXds.register();
  keepConnectionsAcrossEdsUpdates();
  const backends = await startBackends(NODES);
  const hops = new Map(await Promise.all(['edge-1', 'cloud-1'].map(async (id) => [id, await countingHop(backends.byId(id))] as const)));
  const dir = mkdtempSync(join(tmpdir(), 'proxima-keep-'));
  const file = join(dir, 'topology.yaml');
  // The topology's endpoints point at the hops, so every gateway connection is counted.
  const viaHops = backends.backends.map((b) => ({ ...b, port: hops.get(b.id)?.port ?? b.port }));
  writeFileSync(file, topologyYaml(viaHops));
  let localWeight = 800;
  const policy: Policy = {
    name: 'fixed-weights' as PolicyName,
    assign(input) {
      const out = new Map<string, GatewayAssignment>();
      for (const gateway of input.gateways)
        out.set(gateway, {
          service: input.service,
          reason: 'test',
          localities: [
            { node: 'edge-1', weight: localWeight, priority: 0 },
            { node: 'cloud-1', weight: 1000 - localWeight, priority: 0 },
          ],
        });
      return out;
    },
  };
  const p = await startPlane({ policy });
  const source = fileSourceFor(p, file);
  const client = new grpc.Client(TARGET, grpc.credentials.createInsecure(), {
    'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(xdsBootstrap(p.port, 'edge-1')),
  });
  const call = () =>
    new Promise<string>((resolve, reject) =>
      client.makeUnaryRequest(
        WHO_METHOD,
        (x: Buffer) => x,
        (x: Buffer) => x,
        Buffer.alloc(0),
        { deadline: Date.now() + 3000 },
        (err, v) => (err || !v ? reject(err ?? new Error('empty')) : resolve(v.toString())),
      ),
    );
  const localShare = async (n: number) => {
    let local = 0;
    for (let i = 0; i < n; i++) if ((await call()) === 'edge-1') local++;
    return local / n;
  };
  try {
    await source.start();
    // Until both localities have answered once, the client has made its connections.
    const seen = new Set<string>();
    for (let i = 0; i < 400 && seen.size < 2; i++) seen.add(await call());
    assert.deepEqual([...seen].sort(), ['cloud-1', 'edge-1']);
    const before = new Map([...hops].map(([id, h]) => [id, h.accepted()]));
    assert.deepEqual([...before.values()], [1, 1], 'one connection per endpoint to start with');
    const shares: number[] = [];
    for (const w of [200, 800, 200, 800]) {
      localWeight = w;
      p.engine.invalidateAll();
      // The push has arrived once the share moved toward the new weight.
      let share = await localShare(100);
      for (let k = 0; k < 20 && Math.abs(share - w / 1000) > 0.15; k++) share = await localShare(100);
      shares.push(share);
    }
    assert.ok(
      shares.every((s, i) => Math.abs(s - [0.2, 0.8, 0.2, 0.8][i]!) <= 0.15),
      `shares followed the weights: ${shares.join(', ')}`,
    );
    for (const [id, h] of hops)
      assert.equal(h.accepted(), 1, `${id}: connections accepted after 4 weight pushes (unpatched grpc-js-xds opens one more per push)`);
  } finally {
    client.close();
    source.stop();
    await p.close();
    await Promise.all([...hops.values()].map((h) => h.close()));
    await backends.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
