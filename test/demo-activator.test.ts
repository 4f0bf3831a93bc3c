/**
 * `proxima demo --activator` end to end, small: the emulated Knative activator on cloud-1 in Proxy
 * mode (Knative's defaults), Proxima routing to the public endpoints (the activator) against Proxima
 * routing around it, then scale from zero. Asserts the routing outcome, not just that it ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../src/cli/demo.js';
import { faastScenario } from '../src/emulator/scenario.js';
import { KNATIVE_TARGET_BURST_CAPACITY } from '../src/emulator/knative-sks.js';

test('demo --activator: around the activator requests stay local and faster; the first request after scale-from-zero succeeds', async (t) => {
  const outDir = mkdtempSync(join(tmpdir(), 'proxima-demo-activator-'));
  t.after(() => rmSync(outDir, { recursive: true, force: true }));
  const scenario = {
    ...faastScenario('quick', 3),
    users: [5],
    warmupMs: 2000,
    measureMs: 3000,
    policies: ['proxima+public', 'proxima'],
    activator: { node: 'cloud-1', targetBurstCapacity: KNATIVE_TARGET_BURST_CAPACITY, coldStartMs: 1000 },
  };
  const { results } = await runDemo(
    { quick: true, scenario, events: false, outDir, probeIntervalMs: 500, keepRunning: false },
    () => undefined,
  );
  const [viaActivator, around] = results.comparison;
  assert.equal(viaActivator?.dataPath?.mode, 'Proxy');
  assert.equal(viaActivator?.dataPath?.path, 'activator');
  assert.equal(around?.dataPath?.path, 'pods');
  const a = viaActivator!.levels[0]!.summary;
  const b = around!.levels[0]!.summary;
  assert.equal(a.errors + b.errors, 0);
  // Through the activator every request crosses to cloud-1 first; around it, edge pods serve locally.
  assert.ok(b.localShare >= 0.9, `local share around the activator ${b.localShare}`);
  assert.ok(b.p95Ms * 2 < a.p95Ms, `p95 ${b.p95Ms} ms around vs ${a.p95Ms} ms through the activator`);
  const sfz = results.scaleFromZero;
  assert.ok(sfz?.first.ok, `first request after scale-from-zero: ${JSON.stringify(sfz?.first)}`);
  assert.ok(sfz.heldByActivator >= 1, 'the activator held it');
  assert.ok(sfz.first.latencyMs >= sfz.coldStartMs, 'served only once a pod was back');
});
