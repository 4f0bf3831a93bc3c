import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placementReason } from './decisions.js';
import { freshestDemand, largerInflow, plannedInflowRps } from './demand-input.js';
import { scoreNodes } from './scoring.js';
import { closedLoopStore, FAAST_CLUSTER } from './testing.js';

const SVC = 'default/hello-00001';
const none = new Map<string, number>();

/** What a node's agent reports for the service's one pod there (queue-proxy), `requestRps` served. */
function podRow(requestRps: number, atMs: number) {
  return { pods: 1, podsFailed: 0, requestRps, concurrency: (requestRps * 50) / 1000, queueDepth: 0, appLatencyMs: 50, atMs };
}

describe('freshestDemand', () => {
  it('takes what the node’s own pods served when it is above the LRS estimate, and says so', () => {
    const d = freshestDemand({
      lrsRps: new Map([
        ['edge-1', 15.4],
        ['edge-2', 16.3],
      ]),
      podServedRps: new Map([
        ['edge-1', 40],
        ['edge-2', 12],
      ]),
      inflowRps: none,
    });
    const at = (g: string) => d.find((e) => e.gateway === g)!;
    assert.deepEqual(at('edge-1'), { gateway: 'edge-1', rps: 40, lrsRps: 15.4, localPodsRps: 40, source: 'local-pods' });
    assert.deepEqual(at('edge-2'), { gateway: 'edge-2', rps: 16.3, lrsRps: 16.3, localPodsRps: 12, source: 'lrs' });
  });

  it('does not count traffic other gateways sent to the node as demand entering there', () => {
    // edge-1 spills 14 req/s to edge-2 (its last load report); edge-2's pod served 30 in all.
    const d = freshestDemand({
      lrsRps: new Map([
        ['edge-1', 50],
        ['edge-2', 15],
      ]),
      podServedRps: new Map([
        ['edge-1', 36],
        ['edge-2', 30],
      ]),
      inflowRps: new Map([['edge-2', 14]]),
    });
    const e2 = d.find((e) => e.gateway === 'edge-2')!;
    assert.equal(e2.localPodsRps, 16);
    assert.equal(e2.source, 'local-pods');
    assert.equal(e2.rps, 16);
    assert.equal(d.find((e) => e.gateway === 'edge-1')!.source, 'lrs');
  });

  it('keeps the LRS estimate where no pod reports, and leaves out nodes with no demand at all', () => {
    const d = freshestDemand({
      lrsRps: new Map([
        ['edge-1', 20],
        ['cloud-1', 0],
      ]),
      podServedRps: new Map([['edge-2', 0]]),
      inflowRps: new Map([['edge-1', 5]]),
    });
    assert.deepEqual(d, [{ gateway: 'edge-1', rps: 20, lrsRps: 20, source: 'lrs' }]);
  });
});

describe('the extender sees a demand step when the autoscaler does (closed-loop seed 3)', () => {
  // Seed 3, 536 ms after the step at edge-1 (15 → 50 req/s): the KPA had seen edge-1's pod queue up
  // and asked for a pod, while the learned demand still showed the levels before the step. edge-1's
  // pod (2 slots, 50 ms) already served 40 req/s in its agent's last scrape; edge-2's served 16.
  const nodes = [...FAAST_CLUSTER.nodes];
  const storeAtStep = () => closedLoopStore(SVC, { 'edge-1': 15.4, 'edge-2': 16.3 });

  it('from LRS alone it placed the pod on edge-2', () => {
    const r = scoreNodes({ store: storeAtStep(), service: SVC, candidates: nodes, nowMs: 1000, pending: new Map() });
    assert.equal(r.best, 'edge-2');
  });

  it("with the pods' own served rate it places it on edge-1, and the reason names that input", () => {
    const store = storeAtStep();
    store.setPodSignal(SVC, 'edge-1', podRow(40, 900));
    store.setPodSignal(SVC, 'edge-2', podRow(16, 900));
    const r = scoreNodes({ store, service: SVC, candidates: nodes, nowMs: 1000, pending: new Map() });
    assert.equal(r.mode, 'demand');
    assert.equal(r.best, 'edge-1');
    assert.deepEqual(
      r.demand.map((d) => [d.gateway, d.rps, d.source]),
      [
        ['edge-1', 40, 'local-pods'],
        ['edge-2', 16.3, 'lrs'],
      ],
    );
    const why = placementReason(r, r.demand, () => 20).reason;
    assert.match(why, /most at edge-1 \(40 req\/s, served by its own pods; LRS 15\.4\)/);
  });

  it('ignores pod rows older than the signal table keeps (an agent that stopped reporting)', () => {
    const store = storeAtStep();
    store.setPodSignal(SVC, 'edge-1', podRow(40, 0));
    const nowMs = store.podSignals.ttlMs + 1;
    const r = scoreNodes({ store, service: SVC, candidates: nodes, nowMs, pending: new Map() });
    assert.equal(r.best, 'edge-2');
    assert.ok(r.demand.every((d) => d.source === 'lrs'));
  });

  it('takes the inflow from other gateways off a node whose pod serves their spill', () => {
    // Without the inflow, edge-2's pod serving edge-1's spill (30 req/s in all) would look like 30 req/s entering edge-2.
    const store = storeAtStep();
    store.setPodSignal(SVC, 'edge-2', podRow(30, 900));
    const withInflow = scoreNodes({
      store,
      service: SVC,
      candidates: nodes,
      nowMs: 1000,
      pending: new Map(),
      inflowRps: new Map([['edge-2', 14]]),
    });
    const e2 = withInflow.demand.find((d) => d.gateway === 'edge-2')!;
    assert.equal(e2.source, 'lrs');
    assert.equal(e2.rps, 16.3);
    const without = scoreNodes({ store, service: SVC, candidates: nodes, nowMs: 1000, pending: new Map() });
    assert.equal(without.demand.find((d) => d.gateway === 'edge-2')!.rps, 30);
  });
});

describe('inflow from other gateways by the assignments in force', () => {
  const assignment = (gateway: string, localities: Array<[string, number, number]>) => ({
    gateway,
    service: SVC,
    reason: '',
    localities: localities.map(([node, priority, weight]) => ({ node, priority, weight })),
  });

  it("counts each gateway's demand times the share it was told to send to another node (priority 0 only)", () => {
    const inflow = plannedInflowRps(
      new Map([
        [
          'edge-1',
          assignment('edge-1', [
            ['edge-1', 0, 750],
            ['edge-2', 0, 250],
            ['cloud-1', 1, 1],
          ]),
        ],
        [
          'edge-2',
          assignment('edge-2', [
            ['edge-2', 0, 1000],
            ['edge-1', 1, 1],
          ]),
        ],
      ]),
      new Map([
        ['edge-1', 48],
        ['edge-2', 14],
      ]),
    );
    assert.deepEqual(Object.fromEntries(inflow), { 'edge-2': 12 });
    assert.deepEqual(
      Object.fromEntries(
        largerInflow(
          new Map([
            ['edge-2', 3],
            ['edge-1', 1],
          ]),
          inflow,
        ),
      ),
      { 'edge-2': 12, 'edge-1': 1 },
    );
  });

  it('keeps a neighbour serving the step gateway’s fresh spill from looking like demand entering there (closed-loop seed 5)', () => {
    // Seed 5, 0.5 s after the first pod: edge-1 (LRS 48 req/s) had been told to send a quarter to
    // edge-2, whose pod served 25.9 req/s; edge-1's last report did not carry the spill yet.
    const store = closedLoopStore(SVC, { 'edge-1': 48, 'edge-2': 13.9 });
    store.setPodSignal(SVC, 'edge-2', podRow(25.9, 900));
    const lastReport = new Map<string, number>();
    const stale = scoreNodes({
      store,
      service: SVC,
      candidates: [...FAAST_CLUSTER.nodes],
      nowMs: 1000,
      pending: new Map(),
      inflowRps: lastReport,
    });
    assert.equal(stale.demand.find((d) => d.gateway === 'edge-2')!.source, 'local-pods');
    const planned = plannedInflowRps(
      new Map([
        [
          'edge-1',
          assignment('edge-1', [
            ['edge-1', 0, 750],
            ['edge-2', 0, 250],
          ]),
        ],
      ]),
      store.demandByGateway(SVC),
    );
    const r = scoreNodes({
      store,
      service: SVC,
      candidates: [...FAAST_CLUSTER.nodes],
      nowMs: 1000,
      pending: new Map(),
      inflowRps: largerInflow(lastReport, planned),
    });
    const e2 = r.demand.find((d) => d.gateway === 'edge-2')!;
    assert.equal(e2.source, 'lrs');
    assert.equal(e2.rps, 13.9);
  });
});

describe('a node without pods of the service is judged by the pods’ own service time (closed-loop seed 1)', () => {
  it('places the first pod on the step node, not on an empty cloud node credited with the LRS estimate', () => {
    // Seed 1 at 045c59d, 1,028 ms after the step: 63.9 req/s at edge-1, 15.8 at edge-2, both pods
    // overloaded; the pods measured 51.8 and 50.7 ms in the user container, the LRS estimates were
    // 50.3 and 36.2 ms. cloud-1 (no pod) got their mean, 43 ms: a faster pod than the edges' in an
    // overload where capacity decides, and the extender gave it 10.
    const store = closedLoopStore(SVC, { 'edge-1': 63.9, 'edge-2': 15.8, 'cloud-1': 0.08 });
    store.setServiceTime(
      SVC,
      new Map([
        ['edge-1', 50.3],
        ['edge-2', 36.2],
      ]),
    );
    store.setPodSignal(SVC, 'edge-1', { ...podRow(35.9, 900), appLatencyMs: 51.8 });
    store.setPodSignal(SVC, 'edge-2', { ...podRow(23, 900), appLatencyMs: 50.7 });
    const r = scoreNodes({ store, service: SVC, candidates: [...FAAST_CLUSTER.nodes], nowMs: 1000, pending: new Map() });
    assert.equal(r.best, 'edge-1', JSON.stringify(r.scores));
    const at = (n: string) => r.scores.find((x) => x.node === n)!;
    assert.ok(at('cloud-1').withPodMs > at('edge-1').withPodMs, JSON.stringify(r.scores));
  });
});
