import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PendingPlacements, publishPending, readyEndpointsOn } from './placements.js';
import { functionPodOf, resolveService } from './pod.js';
import { testStore } from './testing.js';
import { parseExtenderArgs } from './wire.js';

const place = (p: PendingPlacements, podKey: string, node: string, nowMs: number, readyAtPlacement = 0, service = 'ns/svc') =>
  p.place({ podKey, pod: `ns/${podKey}`, service, node, score: 10, readyAtPlacement }, nowMs);

describe('PendingPlacements', () => {
  it('counts per node, excludes the pod being scored, replaces on retry', () => {
    const p = new PendingPlacements(1000);
    place(p, 'a', 'n1', 0);
    place(p, 'b', 'n1', 1);
    place(p, 'c', 'n2', 2);
    assert.deepEqual([...p.countsFor('ns/svc')].sort(), [
      ['n1', 2],
      ['n2', 1],
    ]);
    assert.deepEqual([...p.countsFor('ns/svc', 'a')].sort(), [
      ['n1', 1],
      ['n2', 1],
    ]);
    place(p, 'a', 'n2', 3);
    assert.deepEqual([...p.countsFor('ns/svc')].sort(), [
      ['n1', 1],
      ['n2', 2],
    ]);
    assert.equal(p.size, 3);
  });

  it('drops entries when ready endpoints appear on their node, oldest first, and expires the rest', () => {
    const p = new PendingPlacements(1000);
    place(p, 'a', 'n1', 0, 1);
    place(p, 'b', 'n1', 10, 1);
    place(p, 'c', 'n2', 20, 0);
    let ready = new Map([
      ['n1', 2],
      ['n2', 0],
    ]);
    let r = p.reconcile((_s, n) => ready.get(n) ?? 0, 500);
    assert.deepEqual(
      r.fulfilled.map((x) => x.podKey),
      ['a'],
    );
    assert.deepEqual([...r.services], ['ns/svc']);
    ready = new Map([
      ['n1', 3],
      ['n2', 0],
    ]);
    r = p.reconcile((_s, n) => ready.get(n) ?? 0, 600);
    assert.deepEqual(
      r.fulfilled.map((x) => x.podKey),
      ['b'],
    );
    r = p.reconcile((_s, n) => ready.get(n) ?? 0, 1020);
    assert.deepEqual(
      r.expired.map((x) => x.podKey),
      ['c'],
    );
    assert.equal(p.size, 0);
  });

  it('publishes counts to the model as pending pods', () => {
    const store = testStore({ nodes: ['n1', 'n2'], services: { 'ns/svc': ['n1'] } });
    const p = new PendingPlacements(1000);
    place(p, 'a', 'n2', 0);
    let changes = 0;
    store.onChange(() => changes++);
    publishPending(store, p, ['ns/svc']);
    assert.deepEqual([...store.pendingPods('ns/svc')], [['n2', 1]]);
    assert.equal(changes, 1);
    publishPending(store, p, ['ns/svc']);
    assert.equal(changes, 1, 'no change, no event');
    assert.equal(readyEndpointsOn(store, 'ns/svc', 'n1'), 1);
  });
});

describe('pods and wire format', () => {
  it('maps a Knative revision pod to namespace/revision, then namespace/service', () => {
    const fp = functionPodOf({
      metadata: {
        name: 'p',
        namespace: 'ns',
        uid: 'u1',
        labels: { 'serving.knative.dev/revision': 'hello-00002', 'serving.knative.dev/service': 'hello' },
      },
    });
    assert.deepEqual(fp?.serviceCandidates, ['ns/hello-00002', 'ns/hello']);
    assert.equal(fp?.key, 'u1');
    const store = testStore({ nodes: ['n1'], services: { 'ns/hello': ['n1'] } });
    assert.equal(resolveService(store, fp!), 'ns/hello');
    assert.equal(resolveService(testStore({ nodes: ['n1'] }), fp!), 'ns/hello-00002');
  });

  it('ignores non-function pods unless a service label is configured', () => {
    const pod = { metadata: { name: 'web-1', namespace: 'web', labels: { app: 'web' } } };
    assert.equal(functionPodOf(pod), undefined);
    assert.deepEqual(functionPodOf(pod, 'app')?.serviceCandidates, ['web/web']);
    assert.equal(functionPodOf(pod, 'app')?.key, 'web/web-1');
  });

  it('rejects malformed ExtenderArgs with a field path', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[], /JSON object/],
      [{ Nodes: { items: [] } }, /^Pod/],
      [{ Pod: {}, Nodes: { items: [] } }, /empty candidate/],
      [{ Pod: {}, NodeNames: [] }, /empty candidate/],
      [{ Pod: {}, NodeNames: ['a', 3] }, /NodeNames\[1\]/],
      [{ Pod: {}, Nodes: { items: [{ metadata: {} }] } }, /Nodes\.items\[0\]\.metadata\.name/],
      [{ Pod: {} }, /neither Nodes/],
      [{ Pod: { metadata: { labels: 'x' } }, NodeNames: ['a'] }, /labels/],
    ];
    for (const [body, re] of cases) {
      const r = parseExtenderArgs(body);
      assert.equal(r.ok, false, JSON.stringify(body));
      if (!r.ok) assert.match(r.error, re);
    }
    const ok = parseExtenderArgs({ Pod: {}, Nodes: null, NodeNames: ['a'] });
    assert.ok(ok.ok && ok.args.mode === 'NodeNames');
  });
});
