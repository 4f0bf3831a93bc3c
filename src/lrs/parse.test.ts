import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LRS_LIMITS, gatewayNodeOf, parseClusterStats, UNKNOWN_LOCALITY, type RawClusterStats } from './parse.js';

const knownService = (s: string) => s === 'default/hello';
const knownNode = (n: string) => ['edge-1', 'edge-2'].includes(n);
const stats = (over: Partial<RawClusterStats> = {}, loc: Record<string, unknown> = {}): RawClusterStats => ({
  cluster_name: 'default/hello',
  load_report_interval: { seconds: '2', nanos: 0 },
  upstream_locality_stats: [
    {
      locality: { sub_zone: 'edge-1' },
      total_issued_requests: '200',
      total_successful_requests: '198',
      total_error_requests: '2',
      total_requests_in_progress: '3',
      ...loc,
    },
  ],
  ...over,
});

test('gateway node: locality.sub_zone, else id', () => {
  assert.equal(gatewayNodeOf({ id: 'gw', locality: { sub_zone: 'edge-1' } }), 'edge-1');
  assert.equal(gatewayNodeOf({ id: 'gw', locality: { sub_zone: '' } }), 'gw');
  assert.equal(gatewayNodeOf({ id: '' }), undefined);
  assert.equal(gatewayNodeOf(null), undefined);
});

test('a valid cluster parses into counts over the interval', () => {
  const p = parseClusterStats(stats(), knownService, knownNode);
  assert.ok('ok' in p);
  assert.deepEqual(p.ok, {
    service: 'default/hello',
    intervalMs: 2000,
    localities: [{ node: 'edge-1', issued: 200, succeeded: 198, errors: 2, inProgress: 3 }],
  });
  assert.equal(p.unknownLocalities, 0);
});

test('cluster_service_name wins when known; cluster_name otherwise', () => {
  const p = parseClusterStats(stats({ cluster_name: 'cds-name', cluster_service_name: 'default/hello' }), knownService, knownNode);
  assert.ok('ok' in p && p.ok.service === 'default/hello');
});

test('bad stats are rejected with a reason', () => {
  const cases: Array<[RawClusterStats, string]> = [
    [stats({ cluster_name: 'default/nope' }), 'unknown_cluster'],
    [stats({ load_report_interval: null }), 'zero_interval'],
    [stats({ load_report_interval: { seconds: '0', nanos: 0 } }), 'zero_interval'],
    [stats({ load_report_interval: { seconds: '999999', nanos: 0 } }), 'absurd_value'],
    [stats({}, { total_issued_requests: '18446744073709551615' }), 'negative_count'], // -1 written into a uint64
    [stats({}, { total_successful_requests: -5 }), 'negative_count'],
    [stats({}, { total_issued_requests: 'x' }), 'negative_count'],
    [stats({}, { total_issued_requests: '100000000' }), 'absurd_value'], // 5e7 rps
    [stats({}, { total_requests_in_progress: '99999999999' }), 'absurd_value'],
  ];
  for (const [cs, reason] of cases) {
    const p = parseClusterStats(cs, knownService, knownNode);
    assert.ok('rejected' in p, `${JSON.stringify(cs)} should be rejected`);
    assert.equal(p.rejected, reason, JSON.stringify(cs));
  }
});

test('localities on unknown nodes are counted but kept for demand', () => {
  const p = parseClusterStats(stats({}, { locality: { sub_zone: 'mystery' } }), knownService, knownNode);
  assert.ok('ok' in p);
  assert.equal(p.unknownLocalities, 1);
  assert.equal(p.ok.localities[0]!.issued, 200);
  assert.equal(p.ok.localities[0]!.node, UNKNOWN_LOCALITY, 'the unknown name itself is not kept');
});

test('more localities than maxLocalities reject the cluster stats', () => {
  const many = stats({ upstream_locality_stats: Array.from({ length: 5 }, () => ({ locality: { sub_zone: 'edge-1' } })) });
  const p = parseClusterStats(many, knownService, knownNode, { ...DEFAULT_LRS_LIMITS, maxLocalities: 4 });
  assert.ok('rejected' in p);
  assert.equal(p.rejected, 'too_many_localities');
  assert.ok('ok' in parseClusterStats(many, knownService, knownNode, { ...DEFAULT_LRS_LIMITS, maxLocalities: 5 }));
});
