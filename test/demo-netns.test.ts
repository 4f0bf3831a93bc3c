/**
 * `proxima demo --netns` end to end: each emulated node in its own network namespace behind a
 * bridge, `proxima serve` on the bridge address. Optional mode: skips (also under CI) when not root
 * or when this kernel/container cannot create namespaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../src/cli/demo.js';
import { runIp, parseLinkNames, parseNetnsList } from '../src/emulator/netns.js';
import { faastScenario } from '../src/emulator/scenario.js';

async function netnsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root';
  const probe = `pxm-probe-${process.pid}`;
  try {
    await runIp(['netns', 'add', probe]);
  } catch (err) {
    return `cannot create a network namespace: ${(err as Error).message}`;
  }
  await runIp(['netns', 'del', probe]);
  return undefined;
}

const ours = async () => ({
  namespaces: parseNetnsList(await runIp(['netns', 'list'])).filter((n) => n.startsWith(`pxm-${process.pid}-`)),
  links: parseLinkNames(await runIp(['-o', 'link', 'show'])).filter((l) => l.startsWith(`pxm${process.pid}`)),
});

test('demo --netns: nodes in namespaces serve locally under nearest; everything is removed afterwards', async (t) => {
  const why = await netnsUnavailable();
  if (why) return t.skip(`demo --netns: ${why}`);
  const outDir = mkdtempSync(join(tmpdir(), 'proxima-demo-netns-'));
  t.after(() => rmSync(outDir, { recursive: true, force: true }));
  const scenario = { ...faastScenario('quick', 5), users: [5], warmupMs: 1500, measureMs: 2000, policies: ['nearest'] };
  const messages: string[] = [];
  const { results } = await runDemo(
    { quick: true, scenario, events: false, outDir, probeIntervalMs: 500, keepRunning: false, netns: true },
    (m) => messages.push(m),
  );
  assert.ok(
    messages.some((m) => m.includes(`bridge pxm${process.pid} `) && m.includes(`pxm-${process.pid}-2`)),
    messages.join('\n'),
  );
  // Nodes got the namespaces' addresses, and the served topology points at them.
  const ips = results.scenario.nodes.map((n) => n.ip);
  assert.ok(
    ips.every((ip) => /^10\.\d+\.0\.\d+$/.test(ip)),
    ips.join(' '),
  );
  assert.equal(new Set(ips).size, ips.length);
  const topology = readFileSync(join(outDir, 'topology.yaml'), 'utf8');
  for (const ip of ips) assert.ok(topology.includes(`address: ${ip},`), `${ip} in topology.yaml`);
  const summary = results.comparison[0]!.levels[0]!.summary;
  assert.ok(summary.requests > 0, 'requests were measured');
  assert.equal(summary.errors, 0);
  assert.ok(summary.localShare >= 0.95, `nearest local share ${summary.localShare}`);
  // Probes crossed namespaces through the delay proxies, keyed by real source IPs: the emulated RTTs.
  const debug = JSON.parse(readFileSync(join(outDir, 'debug-nearest.json'), 'utf8')) as {
    topology: { rtt: Record<string, Record<string, { rttMs: number; source: string }>> };
  };
  const rtt = (a: string, b: string) => debug.topology.rtt[a]?.[b];
  for (const [a, b, lo, hi] of [
    ['edge-1', 'cloud-1', 35, 90],
    ['edge-2', 'cloud-1', 75, 150],
  ] as const) {
    const r = rtt(a, b);
    assert.ok(r?.source === 'measured' && r.rttMs > lo && r.rttMs < hi, `${a}->${b} ${JSON.stringify(r)}`);
  }
  assert.deepEqual(await ours(), { namespaces: [], links: [] });
});
