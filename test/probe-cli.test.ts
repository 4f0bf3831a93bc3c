import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { silentLogger } from '../src/log.js';
import { ModelStore } from '../src/model/store.js';
import { ProbeCollector } from '../src/probe/collector.js';
import { startGrpc, topology, waitFor } from './probe-helpers.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

test('proxima probe --help lists every option; bad flags exit 2 with a clear message', () => {
  const help = spawnSync(process.execPath, [main, 'probe', '--help'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(help.status, 0, help.stderr);
  for (const flag of [
    '--node',
    '--control-plane',
    '--listen',
    '--interval-ms',
    '--timeout-ms',
    '--max-peers',
    '--admin-listen',
    'PROXIMA_NODE',
  ])
    assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
  const noNode = spawnSync(process.execPath, [main, 'probe', '--control-plane', '127.0.0.1:1'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(noNode.status, 2);
  assert.match(noNode.stderr, /--node is required/);
  const badTimeout = spawnSync(
    process.execPath,
    [main, 'probe', '--node', 'a', '--control-plane', '127.0.0.1:1', '--interval-ms', '100', '--timeout-ms', '500'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(badTimeout.status, 2);
  assert.match(badTimeout.stderr, /--timeout-ms/);
});

test('proxima probe registers with the control plane, serves /probe, /metrics and /healthz, exits on SIGTERM', async () => {
  const store = new ModelStore();
  store.replaceTopology(topology(['a', 'b']));
  const collector = new ProbeCollector({ store, log: silentLogger(), registry: new Registry() });
  const cp = await startGrpc((s) => collector.register(s));
  const child = spawn(
    process.execPath,
    [main, 'probe', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--interval-ms', '200', '--timeout-ms', '100'],
    {
      env: { ...process.env, PROXIMA_NODE: 'a', PROXIMA_CONTROL_PLANE: `127.0.0.1:${cp.port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const up = await new Promise<{ probeAddress: string; adminAddress: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('agent did not log its addresses')), 15_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = JSON.parse(line) as { msg?: string; probeAddress?: string; adminAddress?: string };
        if (m.msg === 'probe agent is up') {
          clearTimeout(timer);
          resolve(m as { probeAddress: string; adminAddress: string });
        }
      });
    });
    await waitFor('hello at the control plane', () => collector.agents().some((x) => x.node === 'a' && x.streams === 1), 10_000);
    assert.equal(collector.agents()[0]!.probeAddress, up.probeAddress);
    const probe = await fetch(`http://${up.probeAddress}/probe`);
    assert.equal(probe.status, 200);
    const health = (await (await fetch(`http://${up.adminAddress}/healthz`)).json()) as { status: string; connected: boolean };
    assert.equal(health.status, 'ok');
    assert.equal(health.connected, true);
    const metrics = await (await fetch(`http://${up.adminAddress}/metrics`)).text();
    for (const name of [
      'proxima_probe_rtt_milliseconds',
      'proxima_probe_loss_ratio',
      'proxima_probe_reachable',
      'proxima_probe_probes_total',
    ]) {
      assert.match(metrics, new RegExp(`# HELP ${name} `));
      assert.match(metrics, new RegExp(`# TYPE ${name} `));
    }
    assert.match(metrics, /proxima_probe_control_plane_connected 1/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    collector.close();
    await cp.close();
  }
});
