import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { revisionServiceTimes } from './service-time.js';

describe('revisionServiceTimes', () => {
  it('gives nodes within a quarter of the median their pooled mean, weighted by the requests served', () => {
    const r = revisionServiceTimes([
      { node: 'edge-1', ms: 60, rps: 30 },
      { node: 'edge-2', ms: 50, rps: 10 },
    ]);
    assert.equal(r.pooledMs, 57.5);
    assert.equal(r.byNode.get('edge-1'), 57.5);
    assert.equal(r.byNode.get('edge-2'), 57.5);
  });

  it('keeps a clearly different machine its own time', () => {
    const r = revisionServiceTimes([
      { node: 'edge-1', ms: 50, rps: 20 },
      { node: 'edge-2', ms: 52, rps: 20 },
      { node: 'cloud-1', ms: 20, rps: 20 },
    ]);
    assert.equal(r.pooledMs, 51);
    assert.equal(r.byNode.get('cloud-1'), 20);
    assert.equal(r.byNode.get('edge-1'), r.pooledMs);
    assert.equal(r.byNode.get('edge-2'), r.pooledMs);
  });

  it('weighs nodes equally when one served nothing, and ignores non-positive times', () => {
    const r = revisionServiceTimes([
      { node: 'a', ms: 40, rps: 0 },
      { node: 'b', ms: 48, rps: 30 },
      { node: 'c', ms: 0, rps: 5 },
    ]);
    assert.equal(r.pooledMs, 44);
    assert.deepEqual([...r.byNode.keys()], ['a', 'b']);
    assert.equal(revisionServiceTimes([]).pooledMs, undefined);
  });
});
