import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { proximaPolicy } from '../policy/proxima.js';
import type { GatewayAssignment } from '../policy/types.js';
import { runBenchmark, verdicts } from './benchmark.js';
import { pickLocality } from './envoy-lb.js';
import { mulberry32 } from '../util/rng.js';
import type { Scenario } from './scenario.js';
import { faastScenario } from './scenario.js';
import { runSimulation } from './simulator.js';

const here = dirname(fileURLToPath(import.meta.url));

test('sim: proxima no worse than faast in mean at every load (p95 too below the top level), ≥ 3× lower p95 than even at low load, within 10 % of oracle', () => {
  const [report] = runBenchmark({ seed: 11, scenarios: [faastScenario(3, 50)], users: [5, 25, 50], warmupMs: 20_000, measureMs: 30_000 });
  // Fed FaaSt's own input (per pod, 10 s request latency from the queue-proxy, averaged over the node's
  // pods, 0 where no request completed in the window), faast starts every level from P_j = 0 and sends
  // almost everything local for its first 2 s; at the top level that queue never drains before its
  // weights swing (p95 about 300 ms against proxima's 63 ms on this seed; with the old start from the
  // service-time estimate the two tied at 64 ms).
  const failed = verdicts([report!]).filter((v) => !v.pass && !v.check.includes('changes'));
  assert.deepEqual(failed, []);
  const low = report!.levels[0]!.byPolicy;
  assert.ok(low['proxima']!.entryShare >= 0.99, `entry ${low['proxima']!.entryShare}`);
  // Capacity matters: latency-only routing overloads the busiest edge node at the top level.
  const top = report!.levels[2]!.byPolicy;
  assert.ok(top['nearest']!.p95Ms > 3 * top['proxima']!.p95Ms, `nearest p95 ${top['nearest']!.p95Ms} vs proxima ${top['proxima']!.p95Ms}`);
});

test('sim: deterministic for a seed, different for another', () => {
  const run = (seed: number) =>
    runSimulation({ scenario: faastScenario(2, 100), policy: proximaPolicy, users: 20, seed, warmupMs: 5000, measureMs: 10_000 });
  const a = run(3);
  const b = run(3);
  const c = run(4);
  assert.equal(a.requests, b.requests);
  assert.deepEqual(a.latenciesMs, b.latenciesMs);
  assert.notEqual(a.meanMs, c.meanMs);
});

test('sim: under steady load proxima does not oscillate (no assignment changes after warm-up)', () => {
  for (const [cloudRttMs, users] of [
    [50, 40],
    [100, 30],
  ] as const) {
    const r = runSimulation({
      scenario: faastScenario(3, cloudRttMs),
      policy: proximaPolicy,
      users,
      seed: 5,
      warmupMs: 60_000,
      measureMs: 300_000,
    });
    assert.equal(r.recomputes, 150);
    assert.ok(
      r.assignmentChanges <= 1,
      `cloud ${cloudRttMs} ms, ${users} users: ${r.assignmentChanges} changes in ${r.recomputes} recomputes`,
    );
  }
});

test('sim: a link slowing from 5 to 100 ms moves traffic at the first recompute that sees it', () => {
  const scenario: Scenario = {
    name: 'step',
    description: 'edge-1 has no pod; cloud 5 ms away until t = 30 s, then 100 ms; edge-2 20 ms',
    nodes: [
      { name: 'edge-1', pods: 0, slotsPerPod: 2, userShare: 1 },
      { name: 'edge-2', pods: 1, slotsPerPod: 4, userShare: 0 },
      { name: 'cloud', pods: 2, slotsPerPod: 4, userShare: 0 },
    ],
    links: [
      { a: 'edge-1', b: 'edge-2', rttMs: 20, jitterMs: 2 },
      { a: 'edge-1', b: 'cloud', rttMs: 5, jitterMs: 1 },
      { a: 'edge-2', b: 'cloud', rttMs: 50, jitterMs: 5 },
    ],
    localRttMs: 0.2,
    serviceTimeMs: 10,
    serviceSigma: 0.4,
    rpsPerUser: 10,
  };
  const seen: Array<[number, GatewayAssignment]> = [];
  runSimulation({
    scenario,
    policy: proximaPolicy,
    users: 5,
    seed: 2,
    warmupMs: 10_000,
    measureMs: 50_000,
    step: { atMs: 30_000, apply: (w) => w.setRttMs('edge-1', 'cloud', 100, 10) },
    onAssign: (atMs, table) => seen.push([atMs, table.get('edge-1')!]),
  });
  const primary = (a: GatewayAssignment) =>
    a.localities
      .filter((l) => l.priority === 0)
      .map((l) => l.node)
      .join(',');
  const before = seen.filter(([t]) => t >= 10_000 && t < 30_000).map(([, a]) => primary(a));
  assert.ok(
    before.every((p) => p === 'cloud'),
    before.join(' '),
  );
  const switched = seen.find(([t, a]) => t >= 30_000 && primary(a) === 'edge-2');
  assert.ok(switched, 'switched to edge-2');
  // RTT estimates are an EWMA of 1 s probes: the switch comes within a few recomputes, then stays.
  assert.ok(switched[0] <= 36_000, `switched at ${switched[0]} ms`);
  assert.ok(seen.filter(([t]) => t > switched[0]).every(([, a]) => primary(a) === 'edge-2'));
});

test('envoy-lb: priority spill below 71.4 % healthy, locality weights within a priority', () => {
  const a: GatewayAssignment = {
    service: 's',
    reason: '',
    localities: [
      { node: 'a', priority: 0, weight: 750 },
      { node: 'b', priority: 0, weight: 250 },
      { node: 'c', priority: 1, weight: 1 },
    ],
  };
  const count = (health: Record<string, [number, number]>) => {
    const rng = mulberry32(1);
    const n: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 20_000; i++) n[pickLocality(a, (node) => ({ healthy: health[node]![0], total: health[node]![1] }), rng)!]!++;
    return n;
  };
  const healthy = count({ a: [2, 2], b: [2, 2], c: [1, 1] });
  assert.equal(healthy['c'], 0);
  assert.ok(Math.abs(healthy['a']! / 20_000 - 0.75) < 0.02);
  // Priority 0 at 2 of 4 healthy: 1.4 × 50 % = 70 % stays, 30 % spills to priority 1.
  const degraded = count({ a: [1, 2], b: [1, 2], c: [1, 1] });
  assert.ok(Math.abs(degraded['c']! / 20_000 - 0.3) < 0.02, JSON.stringify(degraded));
});

test('cli: --help, and --quick writes JSON, markdown and SVG', () => {
  const cli = join(here, 'cli.js');
  const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--seed N/);
  const bad = spawnSync(process.execPath, [cli, '--bogus'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  const out = mkdtempSync(join(tmpdir(), 'policy-sim-'));
  try {
    const r = spawnSync(process.execPath, [cli, '--quick', '--seed', '2', '--out', out], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /policy-sim: 3edge-cloud50 users=5 even/);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { seed: number; scenarios: unknown[] };
    assert.equal(json.seed, 2);
    assert.equal(json.scenarios.length, 1);
    assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /\| 50 \| 500 \| proxima \|/);
    assert.ok(existsSync(join(out, 'cdf-3edge-cloud50.svg')));
    assert.match(readFileSync(join(out, 'cdf-3edge-cloud50.svg'), 'utf8'), /<polyline/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
