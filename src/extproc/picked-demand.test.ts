import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PickedDemand } from './picked-demand.js';

test('routed requests are counted per gateway, service and endpoint node, and reset at each flush', () => {
  const d = new PickedDemand();
  const a = d.picked('edge-1', 'default/hello', 'edge-1');
  d.picked('edge-1', 'default/hello', 'edge-1');
  const c = d.picked('edge-1', 'default/hello', 'cloud-1');
  d.picked('edge-2', 'default/hello', 'edge-2');
  PickedDemand.done(a);
  PickedDemand.done(c);
  const first = d.flush(1000);
  assert.deepEqual(first.get('edge-1'), [
    {
      service: 'default/hello',
      intervalMs: 1000,
      localities: [
        { node: 'edge-1', issued: 2, succeeded: 1, errors: 0, inProgress: 1 },
        { node: 'cloud-1', issued: 1, succeeded: 1, errors: 0, inProgress: 0 },
      ],
    },
  ]);
  assert.deepEqual(first.get('edge-2')?.[0]?.localities, [{ node: 'edge-2', issued: 1, succeeded: 0, errors: 0, inProgress: 1 }]);
  // Next interval: only what is still in progress; the idle cloud-1 locality is gone.
  const second = d.flush(1000);
  assert.deepEqual(second.get('edge-1')?.[0]?.localities, [{ node: 'edge-1', issued: 0, succeeded: 0, errors: 0, inProgress: 1 }]);
});

test('a gateway with nothing routed reports no cluster once, then is forgotten; a count is released once per request', () => {
  const d = new PickedDemand();
  const a = d.picked('edge-1', 'default/hello', 'edge-1');
  PickedDemand.done(a);
  assert.equal(d.flush(500).get('edge-1')?.length, 1);
  assert.deepEqual(d.flush(500).get('edge-1'), []);
  assert.equal(d.flush(500).has('edge-1'), false);
  const b = d.picked('edge-1', 'default/hello', 'edge-1');
  PickedDemand.done(b);
  PickedDemand.done(b);
  assert.equal(b.inProgress, 0);
});

test('a withdrawn request (the gateway gave up and followed the EDS weights) leaves the counts; one already flushed is closed as completed', () => {
  const d = new PickedDemand();
  const gaveUp = d.picked('edge-1', 'default/hello', 'edge-1');
  d.picked('edge-1', 'default/hello', 'edge-1');
  PickedDemand.withdraw(gaveUp);
  assert.deepEqual(d.flush(1000).get('edge-1')?.[0]?.localities, [{ node: 'edge-1', issued: 1, succeeded: 0, errors: 0, inProgress: 1 }]);
  const late = d.picked('edge-1', 'default/hello', 'cloud-1');
  assert.equal(
    d
      .flush(1000)
      .get('edge-1')?.[0]
      ?.localities.find((l) => l.node === 'cloud-1')?.issued,
    1,
  );
  PickedDemand.withdraw(late); // its issue was reported already: it ends as completed, not in progress
  assert.deepEqual(
    d
      .flush(1000)
      .get('edge-1')?.[0]
      ?.localities.find((l) => l.node === 'cloud-1'),
    { node: 'cloud-1', issued: 0, succeeded: 1, errors: 0, inProgress: 0 },
  );
});
