import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateHello, validateReport, DEFAULT_REPORT_LIMITS } from './validate.js';

const known = (n: string) => ['a', 'b', 'c'].includes(n);
const row = (over: Record<string, unknown> = {}) => ({
  peer: 'b',
  rtt_ms: 12,
  p90_ms: 15,
  loss_ratio: 0,
  reachable: true,
  samples: '5',
  measured_at_unix_ms: '100000',
  ...over,
});

test('hello needs a node name and a host:port probe address', () => {
  assert.deepEqual(validateHello({ node: 'edge-1', probe_address: '10.0.0.1:8095' }), { node: 'edge-1', probeAddress: '10.0.0.1:8095' });
  assert.ok('error' in validateHello({ node: '', probe_address: '10.0.0.1:8095' }));
  assert.ok('error' in validateHello({ node: 'a', probe_address: 'nope' }));
  assert.ok('error' in validateHello({ node: 'a', probe_address: 'h:0' }));
  assert.ok('error' in validateHello(null));
});

test('report-level rejections', () => {
  const report = { node: 'a', rows: [row()], sent_at_unix_ms: '100000' };
  assert.equal(validateReport(report, undefined, known).rejectedAs, 'no_hello');
  assert.equal(validateReport(report, 'c', known).rejectedAs, 'node_mismatch');
  assert.equal(validateReport({ ...report, node: 'zz' }, 'zz', known).rejectedAs, 'unknown_node');
  const many = { ...report, rows: Array.from({ length: 5 }, () => row()) };
  assert.equal(validateReport(many, 'a', known, { ...DEFAULT_REPORT_LIMITS, maxRows: 4 }).rejectedAs, 'too_many_rows');
  assert.equal(validateReport({ ...report, sent_at_unix_ms: '0' }, 'a', known).rejectedAs, 'invalid_time');
  const ok = validateReport(report, 'a', known);
  assert.equal(ok.rejectedAs, undefined);
  assert.deepEqual(ok.rows, [{ to: 'b', rttMs: 12, reachable: true, ageMs: 0 }]);
});

test('row-level rejections are counted by reason, good rows pass', () => {
  const rows = [
    row(),
    row({ peer: 'a' }),
    row({ peer: 'x' }),
    row({ peer: 'c', rtt_ms: -1 }),
    row({ peer: 'c', rtt_ms: NaN }),
    row({ peer: 'c', rtt_ms: 60_001 }),
    row({ peer: 'c', loss_ratio: 1.5 }),
    row({ peer: 'c', loss_ratio: -0.1 }),
    row({ peer: 'c', measured_at_unix_ms: '50000' }), // 50 s old
    row({ peer: 'c', measured_at_unix_ms: '200000' }), // from the future
    row({ peer: 'c', samples: '0' }), // "reachable" without a single sample
  ];
  const v = validateReport({ node: 'a', rows, sent_at_unix_ms: '100000' }, 'a', known);
  assert.equal(v.rejectedAs, undefined);
  assert.deepEqual(
    v.rows.map((r) => r.to),
    ['b'],
  );
  assert.deepEqual(Object.fromEntries(v.rowRejects), {
    self_peer: 1,
    unknown_peer: 1,
    invalid_rtt: 4,
    invalid_loss: 2,
    stale: 1,
    invalid_time: 1,
  });
});

test('an unreachable row needs no samples and keeps its age', () => {
  const v = validateReport(
    { node: 'a', rows: [row({ reachable: false, samples: '0', rtt_ms: 0, measured_at_unix_ms: '97000' })], sent_at_unix_ms: '100000' },
    'a',
    known,
  );
  assert.deepEqual(v.rows, [{ to: 'b', rttMs: 0, reachable: false, ageMs: 3000 }]);
});

test('a hello may not point peers at link-local, multicast or unspecified addresses', () => {
  for (const a of [
    '169.254.169.254:80',
    '[fe80::1]:8095',
    '0.0.0.0:8095',
    '224.0.0.1:8095',
    '255.255.255.255:1',
    '[::]:8095',
    '[ff02::1]:1',
  ]) {
    const h = validateHello({ node: 'edge-1', probe_address: a });
    assert.ok('error' in h, `${a} must be refused`);
  }
  for (const a of ['10.0.0.1:8095', '127.0.3.1:8095', '[fd00::1]:8095', 'node-1.example:8095']) {
    assert.ok(!('error' in validateHello({ node: 'edge-1', probe_address: a })), `${a} is a node address`);
  }
});
