/**
 * A small run of `proxima demo` end to end: real `proxima serve` and probe agents, real
 * @grpc/grpc-js-xds gateways, emulated pods behind user-space netem delays. Asserts the routing
 * outcome, not just that it ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../src/cli/demo.js';
import { faastScenario } from '../src/emulator/scenario.js';

test('demo: at low load proxima serves locally and beats even; the report is written', async (t) => {
  const outDir = mkdtempSync(join(tmpdir(), 'proxima-demo-'));
  t.after(() => rmSync(outDir, { recursive: true, force: true }));
  const scenario = { ...faastScenario('quick', 7), users: [5], warmupMs: 2000, measureMs: 3000, policies: ['even', 'proxima'] };
  const { results } = await runDemo(
    { quick: true, scenario, events: false, outDir, probeIntervalMs: 500, keepRunning: false },
    () => undefined,
  );
  const [even, proxima] = results.comparison.map((p) => p.levels[0]!.summary);
  assert.ok(even && proxima);
  assert.equal(even.errors + proxima.errors, 0);
  // Even spreads over 6 pods, only one of them local to each gateway.
  assert.ok(even.localShare < 0.5, `even local share ${even.localShare}`);
  assert.ok(proxima.localShare >= 0.9, `proxima local share ${proxima.localShare}`);
  assert.ok(proxima.p95Ms * 2 < even.p95Ms, `p95 proxima ${proxima.p95Ms} ms vs even ${even.p95Ms} ms`);
  const html = readFileSync(join(outDir, 'report.html'), 'utf8');
  assert.equal(html.match(/<polyline class="cdf"/g)?.length, 2);
  const json = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as {
    seeds: number[];
    runs: Array<{ comparison: unknown[] }>;
    cells: Array<{ policy: string; seeds: number[]; meanMs: { mean: number } }>;
  };
  assert.deepEqual(json.seeds, [7]);
  assert.equal(json.runs[0]!.comparison.length, 2);
  assert.deepEqual(
    json.cells.map((c) => [c.policy, c.seeds, c.meanMs.mean]),
    [
      ['even', [7], even.meanMs],
      ['proxima', [7], proxima.meanMs],
    ],
  );
});
