/**
 * A gateway that rejects (NACKs) a resource gets no resend loop: Proxima records the NACK, keeps
 * the client on its last good config, and sends again only when the desired state changes
 * (go-control-plane resends forever: issues #962, #46). Real clients: grpc-js-xds and C-core.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nearestPolicy } from '../src/policy/nearest.js';
import { parseTopology } from '../src/model/topology.js';
import { buildEndpoints, buildShared } from '../src/xds/resources/index.js';
import type { ResourceBuilders } from '../src/xds/resources/types.js';
import { TypeUrl } from '../src/xds/resources/types.js';
import { startBackends } from './peers/backends.js';
import { cCoreUnavailable, share, startClient, type ClientKind, type GatewayClient } from './peers/harness.js';
import { eventually, startPlane, type TestPlane } from './peers/plane.js';
import { NODES, TARGET, topologyYaml } from './peers/topology.js';

function edsOf(p: TestPlane, node: string) {
  const types = p.streamsOf(node).flatMap((s) => s.types.filter((t) => t.typeUrl === TypeUrl.ClusterLoadAssignment));
  assert.equal(types.length, 1, `one EDS subscription for ${node}`);
  return types[0]!;
}

test('NACKed EDS is not resent; last good config stays in use; the next real change is accepted', async (t) => {
  const why = cCoreUnavailable();
  if (why && process.env.CI) throw new Error(`C-core client required in CI: ${why}`);
  if (why) t.diagnostic(`SKIP c-core client: ${why}`);
  const kinds: ClientKind[] = why ? ['grpc-js'] : ['grpc-js', 'c-core'];

  // While `poison` is set, every ClusterLoadAssignment starts at priority 1: both clients reject
  // a priority list without priority 0.
  let poison = false;
  const builders: ResourceBuilders = {
    buildShared,
    buildEndpoints(store, service, assignment, opts) {
      const r = buildEndpoints(store, service, assignment, opts);
      if (!poison) return r;
      const endpoints = (r.value.endpoints as Array<Record<string, unknown>>).map((l) => ({ ...l, priority: (l.priority as number) + 1 }));
      return { ...r, value: { ...r.value, endpoints } };
    },
  };
  const backends = await startBackends(NODES);
  const p = await startPlane({ policy: nearestPolicy, builders });
  const clients: GatewayClient[] = [];
  const apply = (notReady: string[]) => {
    const parsed = parseTopology(topologyYaml(backends.backends, notReady));
    assert.ok(parsed.ok);
    p.store.replaceTopology(parsed.topology);
  };
  try {
    apply([]);
    const placement: Array<[ClientKind, string]> = [
      ['grpc-js', 'edge-1'],
      ['c-core', 'edge-2'],
    ];
    for (const [kind, node] of placement.filter(([k]) => kinds.includes(k)))
      clients.push(await startClient(kind, { xdsPort: p.port, node, target: TARGET }));
    for (const c of clients) assert.equal(share(await c.run(20), c.node), 1, `${c.kind} starts local`);
    for (const c of clients) assert.equal(edsOf(p, c.node).nacks, 0);

    // A real change (cloud-1 not ready) is published poisoned: every client NACKs it once.
    poison = true;
    apply(['cloud-1']);
    // C-core (1.51, Python) handles xDS updates promptly only while RPCs are active: keep it busy.
    for (const c of clients) await eventually(`${c.kind} NACK`, async () => (await c.run(1), edsOf(p, c.node).nacks >= 1), 10_000);
    const atNack = new Map(clients.map((c) => [c.node, { ...edsOf(p, c.node) }]));
    for (const c of clients) {
      const eds = atNack.get(c.node)!;
      assert.ok(eds.lastNack, `${c.kind}: NACK recorded`);
      assert.match(eds.lastNack!.message, /priorit/i, `${c.kind}: NACK names the problem: ${eds.lastNack!.message}`);
      t.diagnostic(`${c.kind} NACK: ${eds.lastNack!.message.slice(0, 160)}`);
    }

    // Quiet period: a resend loop would show up as more EDS responses and more NACKs.
    await new Promise((r) => setTimeout(r, 2000));
    for (const c of clients) {
      const now = edsOf(p, c.node);
      const then = atNack.get(c.node)!;
      assert.equal(now.responses, then.responses, `${c.kind}: no EDS resend after NACK`);
      assert.equal(now.nacks, 1, `${c.kind}: exactly one NACK`);
      // The client keeps its last good EDS: still served locally.
      assert.equal(share(await c.run(20), c.node), 1, `${c.kind}: last good config still in use`);
    }

    // The next real change (a new state: going back to the ACKed one needs no push at all) is
    // built correctly, sent and ACKed.
    poison = false;
    apply(['edge-3']);
    for (const c of clients) {
      await eventually(`${c.kind} ACK of the next version`, async () => {
        await c.run(1);
        const eds = edsOf(p, c.node);
        return eds.versionAcked !== null && eds.versionAcked === eds.versionSent && eds.versionAcked !== atNack.get(c.node)!.versionAcked;
      });
      assert.equal(edsOf(p, c.node).nacks, 1);
      assert.equal(share(await c.run(20), c.node), 1);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await p.close();
    await backends.close();
  }
});
