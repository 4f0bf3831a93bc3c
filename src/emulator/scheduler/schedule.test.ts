/**
 * The emulated kube-scheduler against Proxima's real extender over HTTP on loopback (no
 * kube-scheduler here: the requests follow kubernetes `pkg/scheduler/extender.go` and the
 * k8s.io/kube-scheduler/extender/v1 types, as src/extender/wire.ts documents them).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ExtenderServer } from '../../extender/http.js';
import { closedLoopStore, FAAST_CLUSTER, testStore } from '../../extender/testing.js';
import { silentLogger } from '../../log.js';
import { mulberry32 } from '../../util/rng.js';
import type { NodeResources } from './default-scores.js';
import { closedLoopScenario } from '../closed-loop/scenario.js';
import { proximaExtenderConfig } from './extender-client.js';
import { scheduleOne, selectHost } from './schedule.js';

const SVC = 'default/hello';
const pod = (name: string) => ({
  metadata: {
    name,
    namespace: 'default',
    uid: `uid-${name}`,
    labels: { 'serving.knative.dev/revision': 'hello-00001', 'serving.knative.dev/service': 'hello' },
  },
});
const requests = { cpuMilli: 250, memoryMiB: 256 };
const node = (name: string, cpu: number, revisionPods: number, others = 0): NodeResources => ({
  name,
  allocatableCpuMilli: cpu,
  allocatableMemoryMiB: cpu,
  maxPods: 110,
  requestedCpuMilli: (revisionPods + others) * 250,
  requestedMemoryMiB: (revisionPods + others) * 256,
  pods: revisionPods + others,
  revisionPods,
});
// Two small edge nodes with a pod each, a large cloud node with four.
const NODES = [node('edge-1', 4000, 1), node('edge-2', 4000, 1), node('cloud-1', 16000, 4)];

describe('emulated kube-scheduler with and without the Proxima extender', () => {
  let server: ExtenderServer;
  let url: string;

  before(async () => {
    const store = testStore({
      ...FAAST_CLUSTER,
      services: { [SVC]: ['edge-1', 'edge-2', 'cloud-1', 'cloud-1', 'cloud-1', 'cloud-1'] },
      defaults: { capacity: 2, serviceTimeMs: 20 },
    });
    // Demand stepped up at edge-1: far more than its one pod can serve.
    store.setDemand(
      SVC,
      new Map([
        ['edge-1', 300],
        ['edge-2', 20],
      ]),
    );
    server = new ExtenderServer({ store, log: silentLogger(), registry: new Registry(), pendingTtlMs: 60_000 });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${port}/scheduler`;
  });
  after(() => server.close());

  it('with the extender: filter, prioritize × weight 5 × 10, and the pod lands where demand grew; the decision has its reason', async () => {
    const d = await scheduleOne({ pod: pod('hello-a'), requests, nodes: NODES, extender: proximaExtenderConfig(url), rng: mulberry32(1) });
    assert.equal(d.extenderError, undefined);
    assert.equal(d.node, 'edge-1');
    const e1 = d.scores.find((s) => s.node === 'edge-1')!;
    assert.ok(e1.extender !== undefined && e1.extender >= 9, `extender score ${e1.extender}`);
    assert.equal(e1.total, e1.leastAllocated + e1.spread + e1.extender * 5 * 10);
    const view = server.placements();
    const last = view.decisions.at(-1)!;
    assert.equal(last.node, 'edge-1');
    assert.equal(last.pod, 'default/hello-a');
    assert.equal(last.mode, 'demand');
    assert.match(last.reason, /^unmet demand: 320 req\/s, most at edge-1 \(300 req\/s\); nearest gateway edge-1 \(0 ms\)/);
    assert.deepEqual(last.nearestGateway, { gateway: 'edge-1', rttMs: 0 });
    // With the demand, the model's other inputs per node: enough to replay the decision.
    assert.deepEqual(
      last.inputs?.find((i) => i.node === 'cloud-1'),
      { node: 'cloud-1', pods: 4, serviceTimeMs: 20 },
    );
    assert.equal(view.pending.at(-1)!.node, 'edge-1');
  });

  it('without it: only resource fit and spread decide, so either edge node (a tie, broken at random)', async () => {
    const landed = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const d = await scheduleOne({ pod: pod(`hello-b${seed}`), requests, nodes: NODES, rng: mulberry32(seed) });
      assert.equal(d.withExtender, false);
      landed.add(d.node!);
    }
    assert.deepEqual([...landed].sort(), ['edge-1', 'edge-2']);
  });

  it('a node without room is filtered before the extender sees it', async () => {
    const full = [{ ...node('edge-1', 4000, 1), requestedCpuMilli: 3900 }, node('edge-2', 4000, 1), node('cloud-1', 16000, 4)];
    const d = await scheduleOne({ pod: pod('hello-c'), requests, nodes: full, extender: proximaExtenderConfig(url), rng: mulberry32(1) });
    assert.equal(d.failed['edge-1'], 'Insufficient cpu');
    assert.notEqual(d.node, 'edge-1');
    assert.deepEqual(
      d.scores.map((s) => s.node),
      ['edge-2', 'cloud-1'],
    );
  });

  it('an unreachable ignorable extender is skipped; a non-ignorable one makes the pod unschedulable', async () => {
    const dead = { ...proximaExtenderConfig('http://127.0.0.1:9/scheduler'), httpTimeoutMs: 500 };
    const skipped = await scheduleOne({ pod: pod('hello-d'), requests, nodes: NODES, extender: dead, rng: mulberry32(1) });
    assert.ok(skipped.extenderError);
    assert.ok(skipped.node === 'edge-1' || skipped.node === 'edge-2');
    const failed = await scheduleOne({
      pod: pod('hello-e'),
      requests,
      nodes: NODES,
      extender: { ...dead, ignorable: false },
      rng: mulberry32(1),
    });
    assert.equal(failed.node, undefined);
  });

  it("the first pod of an overloading step goes to the step node, against spread and LeastAllocated's pull to the empty cloud node", async () => {
    // The closed-loop scenario's machines and its seed-1 moment (scoring.test.ts has the extender's
    // side): one pod on each edge node, none on cloud-1, 80.8 req/s learned for 2 × 2 slots at 50 ms.
    const store = closedLoopStore(SVC, { 'edge-1': 59.7, 'edge-2': 21.1 });
    const ext = new ExtenderServer({ store, log: silentLogger(), registry: new Registry(), pendingTtlMs: 60_000 });
    const { port } = await ext.listen({ host: '127.0.0.1', port: 0 });
    try {
      const machines = closedLoopScenario(1).nodeCapacity.map((n): NodeResources => ({
        name: n.name,
        allocatableCpuMilli: n.allocatableCpuMilli,
        allocatableMemoryMiB: n.allocatableMemoryMiB,
        maxPods: n.maxPods,
        requestedCpuMilli: n.otherCpuMilli + (n.name === 'cloud-1' ? 0 : 250),
        requestedMemoryMiB: n.otherMemoryMiB + (n.name === 'cloud-1' ? 0 : 256),
        pods: n.otherPods + (n.name === 'cloud-1' ? 0 : 1),
        revisionPods: n.name === 'cloud-1' ? 0 : 1,
      }));
      const config = proximaExtenderConfig(`http://127.0.0.1:${port}/scheduler`);
      const d = await scheduleOne({ pod: pod('hello-f'), requests, nodes: machines, extender: config, rng: mulberry32(1) });
      assert.equal(d.node, 'edge-1', JSON.stringify(d.scores));
      const [e1, c1] = ['edge-1', 'cloud-1'].map((n) => d.scores.find((s) => s.node === n)!);
      assert.ok(c1!.spread + c1!.leastAllocated > e1!.spread + e1!.leastAllocated, "the scheduler's own plugins prefer cloud-1");
      assert.equal(e1!.extender, 10);
      assert.equal(c1!.extender, 0);
      // The next pod sees the first one pending on edge-1 (the extender counts its own placements).
      const next = await scheduleOne({ pod: pod('hello-f2'), requests, nodes: machines, extender: config, rng: mulberry32(2) });
      assert.notEqual(next.node, 'cloud-1', JSON.stringify(next.scores));
      const alone = await scheduleOne({ pod: pod('hello-g'), requests, nodes: machines, rng: mulberry32(1) });
      assert.equal(alone.node, 'cloud-1', 'without the extender');
    } finally {
      await ext.close();
    }
  });

  it('selectHost: highest total; ties uniformly at random', () => {
    assert.equal(
      selectHost(
        [
          { node: 'a', total: 1 },
          { node: 'b', total: 3 },
        ],
        mulberry32(1),
      ),
      'b',
    );
    const counts = { a: 0, b: 0 };
    const rng = mulberry32(7);
    for (let i = 0; i < 2000; i++)
      counts[
        selectHost(
          [
            { node: 'a', total: 2 },
            { node: 'b', total: 2 },
          ],
          rng,
        ) as 'a' | 'b'
      ]++;
    assert.ok(counts.a > 850 && counts.b > 850, JSON.stringify(counts));
  });
});
