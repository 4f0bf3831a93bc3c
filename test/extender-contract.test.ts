import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ExtenderServer } from '../src/extender/http.js';
import { fixture, send, testStore } from '../src/extender/testing.js';
import type { ModelStore } from '../src/model/store.js';
import { silentLogger } from '../src/log.js';

/**
 * Contract tests for the kube-scheduler extender. There is no real kube-scheduler on this machine:
 * the request bodies in test/fixtures/extender/ follow the upstream Go types as kube-scheduler's
 * HTTPExtender serialises them (k8s.io/kube-scheduler/extender/v1 types.go: ExtenderArgs{Pod, Nodes,
 * NodeNames} without JSON tags, so capitalised keys; v1.Pod / v1.NodeList from k8s.io/api/core/v1),
 * and the replies are checked against the Go field names of ExtenderFilterResult{Nodes, NodeNames,
 * FailedNodes, FailedAndUnresolvableNodes, Error} and HostPriority{Host, Score} (Score 0..10,
 * MaxExtenderPriority). Go's encoding/json matches keys case-insensitively on decode, but we send
 * the exact names.
 */

const FILTER_KEYS = ['Error', 'FailedAndUnresolvableNodes', 'FailedNodes', 'NodeNames', 'Nodes'];
const SVC = 'default/hello-00001';

function edgeCluster(): ModelStore {
  const store = testStore({
    nodes: ['cloud-1', 'edge-1', 'edge-2', 'edge-3'],
    rtt: [
      ['edge-1', 'edge-2', 20],
      ['edge-1', 'edge-3', 40],
      ['edge-2', 'edge-3', 40],
      ['edge-1', 'cloud-1', 50],
      ['edge-2', 'cloud-1', 100],
      ['edge-3', 'cloud-1', 80],
    ],
    services: { [SVC]: ['edge-1'] },
  });
  store.setDemand(
    SVC,
    new Map([
      ['edge-1', 20],
      ['edge-2', 20],
    ]),
  );
  return store;
}

describe('extender contract (kube-scheduler JSON, both cache modes)', () => {
  let store: ModelStore;
  let server: ExtenderServer;
  let registry: Registry;
  let port: number;
  let nowMs = 1_000_000;

  before(async () => {
    store = edgeCluster();
    // edge-3 is seen unreachable by all three peers that probe it.
    for (const from of ['cloud-1', 'edge-1', 'edge-2']) store.setMeasuredRtt(from, [{ to: 'edge-3', rttMs: 0, reachable: false }], nowMs);
    registry = new Registry();
    server = new ExtenderServer({ store, log: silentLogger(), registry, nowMs: () => nowMs, pendingTtlMs: 60_000 });
    ({ port } = await server.listen({ host: '127.0.0.1', port: 0 }));
  });
  after(() => server.close());

  it('filter, nodeCacheCapable=false: NodeList in, filtered NodeList out, unreachable edge-3 with a reason', async () => {
    const body = fixture('args-knative-nodes.json');
    const sent = JSON.parse(body) as { Nodes: { items: Array<{ metadata: { name: string } }> } };
    const r = await send(port, 'POST', '/filter', body);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /application\/json/);
    const res = JSON.parse(r.text) as Record<string, unknown> & { Nodes: { items: unknown[]; metadata: unknown } };
    assert.deepEqual(Object.keys(res).sort(), FILTER_KEYS);
    assert.equal(res['NodeNames'], null);
    assert.equal(res['Error'], '');
    assert.deepEqual(
      res.Nodes.items.map((n) => (n as { metadata: { name: string } }).metadata.name),
      ['cloud-1', 'edge-1', 'edge-2'],
    );
    // Passed nodes come back byte-for-byte as sent (kube-scheduler uses them as the node objects).
    assert.deepEqual(
      res.Nodes.items,
      sent.Nodes.items.filter((n) => n.metadata.name !== 'edge-3'),
    );
    assert.deepEqual(res.Nodes.metadata, {});
    const failed = res['FailedNodes'] as Record<string, string>;
    assert.deepEqual(Object.keys(failed), ['edge-3']);
    assert.match(failed['edge-3']!, /unreachable from 3 of 3/);
    assert.deepEqual(res['FailedAndUnresolvableNodes'], failed);
  });

  it('filter, nodeCacheCapable=true: NodeNames in, NodeNames out', async () => {
    const r = await send(port, 'POST', '/filter', fixture('args-knative-nodenames.json'));
    assert.equal(r.status, 200);
    const res = JSON.parse(r.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(res).sort(), FILTER_KEYS);
    assert.equal(res['Nodes'], null);
    assert.deepEqual(res['NodeNames'], ['cloud-1', 'edge-1', 'edge-2']);
    assert.deepEqual(Object.keys(res['FailedNodes'] as object), ['edge-3']);
  });

  it('prioritize (both modes): HostPriorityList, 0..10, edge-2 (uncovered demand) above cloud-1 and edge-1', async () => {
    for (const f of ['args-knative-nodes.json', 'args-knative-nodenames.json']) {
      const r = await send(port, 'POST', '/scheduler/prioritize', fixture(f));
      assert.equal(r.status, 200, r.text);
      const list = JSON.parse(r.text) as Array<Record<string, unknown>>;
      assert.ok(Array.isArray(list));
      for (const hp of list) {
        assert.deepEqual(Object.keys(hp).sort(), ['Host', 'Score']);
        assert.ok(Number.isInteger(hp['Score']) && (hp['Score'] as number) >= 0 && (hp['Score'] as number) <= 10);
      }
      assert.deepEqual(
        list.map((h) => h['Host']),
        ['cloud-1', 'edge-1', 'edge-2', 'edge-3'],
        'request order kept',
      );
      const score = new Map(list.map((h) => [h['Host'] as string, h['Score'] as number]));
      assert.equal(score.get('edge-2'), 10);
      assert.ok(score.get('edge-2')! > score.get('cloud-1')!);
      assert.ok(score.get('edge-2')! > score.get('edge-1')!);
    }
    // The same pod (same uid) scored twice is one pending placement, on edge-2.
    const view = server.placements();
    assert.deepEqual(
      view.pending.map((p) => [p.pod, p.service, p.node]),
      [['default/hello-00001-deployment-7d9c8b6f5-x2k4q', SVC, 'edge-2']],
    );
    assert.deepEqual([...store.pendingPods(SVC)], [['edge-2', 1]]);
  });

  it('a second pod right after sees the pending one; a ready endpoint on edge-2 fulfils it', async () => {
    const args = JSON.parse(fixture('args-knative-nodenames.json')) as { Pod: { metadata: { uid: string; name: string } } };
    args.Pod.metadata.uid = 'second-pod-uid';
    args.Pod.metadata.name = 'hello-00001-deployment-7d9c8b6f5-zzzzz';
    const r = await send(port, 'POST', '/prioritize', JSON.stringify(args));
    const score = new Map((JSON.parse(r.text) as Array<{ Host: string; Score: number }>).map((h) => [h.Host, h.Score]));
    assert.ok(score.get('edge-2')! < 10, `edge-2 already has a pod on its way: ${JSON.stringify([...score])}`);
    assert.equal(server.placements().pending.length, 2);

    const svc = store.service(SVC)!;
    store.upsertService({
      ...svc,
      endpoints: [...svc.endpoints, { address: '10.42.2.7', port: 8012, node: 'edge-2', ready: true, capacity: 10 }],
    });
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const left = server.placements().pending.map((p) => p.pod);
    assert.deepEqual(left, ['default/hello-00001-deployment-7d9c8b6f5-zzzzz'], 'the edge-2 placement is fulfilled');
    nowMs += 61_000;
    // Expiry runs on a timer and before each function-pod prioritize.
    args.Pod.metadata.uid = 'third-pod-uid';
    await send(port, 'POST', '/prioritize', JSON.stringify(args));
    assert.deepEqual(
      server.placements().pending.map((p) => p.podKey),
      ['third-pod-uid'],
    );
    const metrics = await registry.metrics();
    assert.match(metrics, /proxima_extender_placements_total\{result="fulfilled"\} 1/);
    assert.match(metrics, /proxima_extender_placements_total\{result="expired"\} 1/);
  });

  it('non-function pods pass through unchanged in both modes and verbs', async () => {
    const body = fixture('args-plain-nodes.json');
    const sent = JSON.parse(body) as { Nodes: unknown };
    const f = JSON.parse((await send(port, 'POST', '/filter', body)).text) as Record<string, unknown>;
    assert.deepEqual(f['Nodes'], sent.Nodes);
    assert.deepEqual(f['FailedNodes'], {});
    const fn = JSON.parse((await send(port, 'POST', '/filter', fixture('args-plain-nodenames.json'))).text) as Record<string, unknown>;
    assert.deepEqual(fn['NodeNames'], ['cloud-1', 'edge-1', 'edge-2', 'edge-3']);
    const p = JSON.parse((await send(port, 'POST', '/prioritize', body)).text) as Array<{ Host: string; Score: number }>;
    assert.deepEqual(
      p,
      ['cloud-1', 'edge-1', 'edge-2', 'edge-3'].map((Host) => ({ Host, Score: 0 })),
    );
  });

  it('exports request, filter and placement metrics', async () => {
    const m = await registry.metrics();
    assert.match(m, /proxima_extender_requests_total\{verb="filter",outcome="ok"\} \d+/);
    assert.match(m, /proxima_extender_requests_total\{verb="prioritize",outcome="passthrough"\} \d+/);
    assert.match(m, /proxima_extender_nodes_filtered_total\{reason="unreachable"\} 2/);
    assert.match(m, /proxima_extender_request_duration_seconds_bucket\{le="0.005",verb="prioritize"\} \d+/);
    assert.match(m, /proxima_extender_placements_pending 1/);
  });
});
