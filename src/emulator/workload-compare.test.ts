import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanInterval } from '../util/interval.js';
import { compareWorkloads, workloadRunFromReport } from './workload-compare.js';

const cell = (policy: string, users: number, means: number[], p95s: number[], local = means.map(() => 1)) => ({
  policy,
  users,
  seeds: means.map((_, i) => i + 1),
  meanMs: meanInterval(means),
  p95Ms: meanInterval(p95s),
  localShare: meanInterval(local),
});

test('workloads match when every shared cell overlaps on mean and p95', () => {
  const a = {
    workload: 'openfaas',
    cells: [cell('proxima', 5, [21, 22, 23], [40, 42, 44]), cell('proxima', 45, [60, 70, 65], [200, 220, 210])],
  };
  const b = {
    workload: 'knative',
    cells: [cell('proxima', 5, [22, 23, 24], [41, 43, 45]), cell('proxima', 45, [62, 66, 70], [205, 215, 225])],
  };
  const c = compareWorkloads(a, b);
  assert.equal(c.match, true, c.verdict);
  assert.equal(c.cells.length, 2);
  assert.match(c.cells[0]!.line, /^proxima at 5 users: openfaas vs knative: mean 22\.0 ± 2\.5 vs 23\.0 ± 2\.5 ms/);
});

test('one cell apart on p95 fails the match and is named; too few seeds never match', () => {
  const a = { workload: 'openfaas', cells: [cell('proxima', 5, [21, 22, 23], [40, 41, 42]), cell('even', 5, [30, 31, 32], [80, 81, 82])] };
  const b = { workload: 'knative', cells: [cell('proxima', 5, [21, 22, 23], [60, 61, 62]), cell('even', 5, [30, 31, 32], [80, 81, 82])] };
  const c = compareWorkloads(a, b);
  assert.equal(c.match, false);
  assert.equal(c.verdict, '1 of 2 cells differ: proxima@5');
  const moved = compareWorkloads(
    { workload: 'openfaas', cells: [cell('proxima', 5, [21, 22, 23], [40, 41, 42], [0.5, 0.52, 0.48])] },
    { workload: 'knative', cells: [cell('proxima', 5, [21, 22, 23], [40, 41, 42], [0.99, 1, 0.98])] },
  );
  assert.equal(moved.match, false, 'same latency but different routing is not a match');
  assert.match(moved.cells[0]!.line, /local 50\.0 ± 5\.0 vs 99\.0 ± 2\.5 % \(lower\)/);
  const one = compareWorkloads(
    { workload: 'x', cells: [cell('proxima', 5, [21], [40])] },
    { workload: 'y', cells: [cell('proxima', 5, [21], [40])] },
  );
  assert.equal(one.match, false);
  assert.match(one.verdict, /fewer than two seeds/);
  assert.equal(compareWorkloads(a, { workload: 'y', cells: [] }).match, false);
});

test('report.json: NaN intervals survive as null; malformed reports are described, not thrown', () => {
  const json = JSON.parse(JSON.stringify({ workload: 'openfaas', cells: [cell('proxima', 5, [21], [40])] }));
  const run = workloadRunFromReport(json);
  assert.ok(typeof run !== 'string');
  assert.equal(run.workload, 'openfaas');
  assert.ok(Number.isNaN(run.cells[0]!.meanMs.halfWidth));
  assert.equal(workloadRunFromReport({ cells: [] }).toString(), '[object Object]');
  assert.equal(
    (workloadRunFromReport({ cells: [] }) as { workload: string }).workload,
    'knative',
    'reports before --workload were Knative',
  );
  assert.match(String(workloadRunFromReport(null)), /not a JSON object/);
  assert.match(String(workloadRunFromReport({ runs: [] })), /no "cells" list/);
  assert.match(String(workloadRunFromReport({ cells: [{ policy: 'p', users: 'five' }] })), /cells\[0\] lacks/);
});
