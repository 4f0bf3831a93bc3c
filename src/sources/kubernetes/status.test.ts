import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IngressTranslation } from './ingress.js';
import { DEFAULT_LOAD_BALANCERS, desiredStatus, sameStatus, statusPatch } from './status.js';

const ok: IngressTranslation = {
  key: 'ns/i',
  namespace: 'ns',
  name: 'i',
  generation: 4,
  routes: [],
  backends: [],
  outcome: { kind: 'ok' },
  warnings: [],
  probeHash: '',
  createdMs: 0,
};
const T0 = Date.parse('2026-11-21T10:00:00Z');

test('status: Ready only when programmed; load balancers only then', () => {
  const waiting = desiredStatus(ok, false, DEFAULT_LOAD_BALANCERS, undefined, T0);
  assert.deepEqual(
    waiting.conditions.map((c) => [c.type, c.status]),
    [
      ['LoadBalancerReady', 'Unknown'],
      ['NetworkConfigured', 'True'],
      ['Ready', 'Unknown'],
    ],
  );
  assert.equal(waiting.publicLoadBalancer, undefined);
  const ready = desiredStatus(ok, true, DEFAULT_LOAD_BALANCERS, waiting, T0 + 1000);
  assert.deepEqual(
    ready.conditions.map((c) => c.status),
    ['True', 'True', 'True'],
  );
  assert.equal(ready.observedGeneration, 4);
  assert.equal(ready.conditions[0]!.lastTransitionTime, '2026-11-21T10:00:01Z');
  assert.equal(ready.conditions[1]!.lastTransitionTime, '2026-11-21T10:00:00Z', 'unchanged condition keeps its time');
  assert.deepEqual(statusPatch(waiting).status['publicLoadBalancer'], null, 'merge patch removes stale load balancers');
});

test('status: unsupported is Ready=False with reason and message; comparison ignores times', () => {
  const bad: IngressTranslation = { ...ok, outcome: { kind: 'unsupported', reason: 'UnsupportedRewriteHost', message: 'no' } };
  const s = desiredStatus(bad, true, DEFAULT_LOAD_BALANCERS, undefined, T0);
  const readyCond = s.conditions.find((c) => c.type === 'Ready')!;
  assert.equal(readyCond.status, 'False');
  assert.equal(readyCond.reason, 'UnsupportedRewriteHost');
  const later = desiredStatus(bad, true, DEFAULT_LOAD_BALANCERS, undefined, T0 + 60_000);
  assert.equal(sameStatus(JSON.parse(JSON.stringify(s)), later), true);
  assert.equal(sameStatus({ ...s, observedGeneration: 3 }, later), false);
  assert.equal(sameStatus(undefined, later), false);
  assert.equal(sameStatus(desiredStatus(ok, true, DEFAULT_LOAD_BALANCERS, undefined, T0), later), false);
});
