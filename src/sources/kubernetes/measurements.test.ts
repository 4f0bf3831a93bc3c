import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_PUBLISH_POLICY,
  mergeReports,
  objectNameFor,
  reportFromKube,
  reportToKube,
  shouldPublish,
  type MeasurementReport,
} from './measurements.js';

const rep = (
  replicaId: string,
  rtt: [string, string, number, number][],
  demand: [string, string, number, number][] = [],
): MeasurementReport => ({
  replicaId,
  rtt: rtt.map(([from, to, rttMs, atMs]) => ({ from, to, rttMs, reachable: true, atMs })),
  demand: demand.map(([gateway, service, rps, atMs]) => ({ gateway, service, rps, atMs })),
});

test('measurements: merge takes the newest row, ties go to the smallest replica id, independent of order', () => {
  const r1 = rep(
    'b',
    [
      ['n1', 'n2', 10, 100],
      ['n1', 'n3', 30, 200],
    ],
    [['n1', 's', 5, 100]],
  );
  const r2 = rep(
    'a',
    [
      ['n1', 'n2', 12, 150],
      ['n1', 'n3', 31, 200],
    ],
    [
      ['n1', 's', 7, 90],
      ['n2', 's', 1, 90],
    ],
  );
  const m1 = mergeReports([r1, r2], 1000, 10_000);
  const m2 = mergeReports([r2, r1], 1000, 10_000);
  assert.deepEqual(m1, m2);
  assert.deepEqual(
    m1.rtt.map((r) => [r.to, r.rttMs]),
    [
      ['n2', 12],
      ['n3', 31],
    ],
  );
  assert.deepEqual(
    [...m1.demand.get('s')!],
    [
      ['n1', 5],
      ['n2', 1],
    ],
  );
});

test('measurements: rows older than maxAge are dropped', () => {
  const m = mergeReports(
    [
      rep(
        'a',
        [
          ['n1', 'n2', 10, 0],
          ['n1', 'n3', 10, 950],
        ],
        [['g', 's', 1, 0]],
      ),
    ],
    1000,
    100,
  );
  assert.deepEqual(
    m.rtt.map((r) => r.to),
    ['n3'],
  );
  assert.equal(m.demand.size, 0);
});

test('measurements: hysteresis publishes on >10 % moves, new rows, or after maxInterval, never faster than minInterval', () => {
  const p = DEFAULT_PUBLISH_POLICY;
  const base = rep('a', [['n1', 'n2', 50, 0]], [['g', 's', 100, 0]]);
  assert.equal(shouldPublish(undefined, base, 0, p), true);
  assert.equal(shouldPublish(undefined, rep('a', []), 0, p), false);
  const last = { report: base, atMs: 0 };
  assert.equal(shouldPublish(last, rep('a', [['n1', 'n2', 80, 0]], [['g', 's', 100, 0]]), 500, p), false, 'min interval');
  assert.equal(shouldPublish(last, rep('a', [['n1', 'n2', 54, 0]], [['g', 's', 105, 0]]), 2000, p), false, 'small move');
  assert.equal(shouldPublish(last, rep('a', [['n1', 'n2', 60, 0]], [['g', 's', 100, 0]]), 2000, p), true, 'rtt +20 %');
  assert.equal(shouldPublish(last, rep('a', [['n1', 'n2', 50, 0]], [['g', 's', 130, 0]]), 2000, p), true, 'demand +30 %');
  assert.equal(
    shouldPublish(
      last,
      rep(
        'a',
        [
          ['n1', 'n2', 50, 0],
          ['n1', 'n3', 5, 0],
        ],
        [['g', 's', 100, 0]],
      ),
      2000,
      p,
    ),
    true,
    'new row',
  );
  assert.equal(shouldPublish(last, rep('a', [['n1', 'n2', 50, 0]], [['g', 's', 100, 0]]), 10_000, p), true, 'max interval');
  const tiny = { report: rep('a', [['n1', 'n2', 0.2, 0]]), atMs: 0 };
  assert.equal(shouldPublish(tiny, rep('a', [['n1', 'n2', 0.5, 0]]), 2000, p), false, 'below the absolute floor');
});

test('measurements: round trip through the object, malformed rows counted', () => {
  const r = rep('Proxima_0', [['n1', 'n2', 10, 5]], [['g', 's', 2, 5]]);
  const obj = reportToKube(r, 7) as { metadata: { name: string }; spec: { rtt: unknown[]; demand: unknown[] } };
  assert.equal(obj.metadata.name, 'proxima-0');
  assert.equal(objectNameFor('--'), 'replica');
  obj.spec.rtt.push({ from: 'x' }, 'junk');
  obj.spec.demand.push({ gateway: 'g', service: 's', rps: -1, atMs: 1 });
  const back = reportFromKube(obj)!;
  assert.equal(back.invalidRows, 3);
  assert.deepEqual(back.report, r);
  assert.equal(reportFromKube({ metadata: { name: 'x' } }), undefined);
});
