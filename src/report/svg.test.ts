import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdfChart, matrixChart } from './svg.js';

test('cdf chart: one polyline per series, monotone, escaped labels', () => {
  const svg = cdfChart(
    [
      { label: 'even <all>', valuesMs: [5, 60, 55, 7, 70] },
      { label: 'proxima', valuesMs: [3, 4, 5, 6, 7] },
    ],
    { title: 'CDF & more' },
  );
  assert.match(svg, /^<svg xmlns/);
  assert.equal(svg.match(/<polyline class="cdf"/g)?.length, 2);
  assert.ok(svg.includes('even &lt;all&gt;') && svg.includes('CDF &amp; more'));
  for (const m of svg.matchAll(/points="([^"]+)"/g)) {
    const pts = m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    for (let i = 1; i < pts.length; i++) {
      assert.ok(pts[i]![0] >= pts[i - 1]![0], 'x non-decreasing');
      assert.ok(pts[i]![1] <= pts[i - 1]![1], 'y (cumulative share) non-decreasing upwards');
    }
  }
});

test('matrix chart: a cell per pair with its value', () => {
  const svg = matrixChart(['a', 'b'], ['a', 'b'], (r, c) => (r === c ? 0 : 50), { title: 'RTT', unit: 'ms' });
  assert.equal(svg.match(/class="cell"/g)?.length, 4);
  assert.equal(svg.match(/50\.0ms/g)?.length, 2);
});
