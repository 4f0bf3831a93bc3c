/**
 * `proxima serve` as a newcomer meets it: every start-up failure is one line that names the cause and
 * the flag or file to change, exit code 2 for usage/configuration errors, no stack trace; the admin
 * port answers /healthz from the first second; the quick start ends in an answered request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveBanner } from '../src/cli/serve.js';
import { SERVE_SPEC } from '../src/cli/specs.js';
import { formatListen, listen, parseOptions } from '../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const loopbackPorts = ['--xds-listen', '127.0.0.1:0', '--extproc-listen', '127.0.0.1:0', '--extender-listen', '127.0.0.1:0'];

/** An environment with no kubeconfig anywhere (a fresh machine outside a cluster). */
function bareEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: home };
  return env;
}

function runServe(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [MAIN, 'serve', ...args], { env, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout, ms: Date.now() - started };
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

async function busyPort(): Promise<{ port: number; close: () => void }> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as AddressInfo).port, close: () => s.close() };
}

test('--kubernetes without any kubeconfig: one line at once, exit 2, pointing at --kubeconfig', () => {
  const home = mkdtempSync(join(tmpdir(), 'proxima-home-'));
  try {
    const r = runServe(['--kubernetes', ...loopbackPorts, '--admin-listen', '127.0.0.1:0'], bareEnv(home));
    assert.equal(r.code, 2, r.stderr);
    assertOneLine(r.stderr, /^proxima serve: --kubernetes: no kubeconfig found .*--kubeconfig FILE/);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    const missing = runServe(['--kubernetes', '--kubeconfig', join(home, 'nope.yaml')], bareEnv(home));
    assert.equal(missing.code, 2);
    assertOneLine(missing.stderr, /^proxima serve: --kubeconfig .*nope\.yaml: cannot load it \(ENOENT/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('an address in use names the flag and its env var; a port out of range says so; exit 2, one line', async () => {
  const busy = await busyPort();
  try {
    for (const flag of ['--xds-listen', '--admin-listen', '--extender-listen', '--extproc-listen']) {
      const args = [...loopbackPorts, '--admin-listen', '127.0.0.1:0'];
      const i = args.indexOf(flag);
      args[i + 1] = `127.0.0.1:${busy.port}`;
      const r = runServe(args, bareEnv(tmpdir()));
      assert.equal(r.code, 2, `${flag}: ${r.stderr}`);
      const env = `PROXIMA_${flag.slice(2).replace(/-/g, '_').toUpperCase()}`;
      assertOneLine(
        r.stderr,
        new RegExp(`^proxima serve: ${flag} 127\\.0\\.0\\.1:${busy.port}: the address is already in use.*${flag} or ${env}$`),
      );
    }
  } finally {
    busy.close();
  }
  const noFile = runServe(['--topology', '/nonexistent/topology.yaml'], bareEnv(tmpdir()));
  assert.equal(noFile.code, 2);
  assertOneLine(noFile.stderr, /^proxima serve: --topology \/nonexistent\/topology\.yaml: cannot read: ENOENT/);
  const demo = spawnSync(process.execPath, [MAIN, 'demo', '--topology', '/nonexistent/t.yaml'], {
    env: bareEnv(tmpdir()),
    encoding: 'utf8',
  });
  assert.equal(demo.status, 2);
  assertOneLine(demo.stderr, /^proxima demo: --topology \/nonexistent\/t\.yaml: cannot read it \(ENOENT/);
  const range = runServe(['--xds-listen', ':99999'], bareEnv(tmpdir()));
  assert.equal(range.code, 2);
  assertOneLine(range.stderr, /^proxima serve: --xds-listen: port 99999 is out of range \(0-65535/);
});

test('an invalid topology at start: every error once, with line and column, exit 2, no stack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-topo-'));
  try {
    const file = join(dir, 't.yaml');
    writeFileSync(
      file,
      'nodes:\n  - { name: a }\n  - { name: a }\nservices:\n  - name: x/y\n    endpoints:\n      - { address: 1.2.3.4, port: 0, node: zz }\n',
    );
    const r = runServe(['--topology', file, ...loopbackPorts, '--admin-listen', '127.0.0.1:0'], bareEnv(dir));
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0]!, /^proxima serve: --topology .*t\.yaml: \d+ errors; nothing is served until it is fixed:$/);
    assert.ok(
      lines.slice(1).every((l) => /^line \d+, column \d+: /.test(l)),
      r.stderr,
    );
    assert.equal(new Set(lines).size, lines.length, 'each error once');
    assert.match(r.stderr, /line 3, column 5: nodes\[1\]\.name: duplicate node "a"|line 3, column \d+: nodes\[1\]/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    writeFileSync(file, 'nodes: *typo\n');
    const alias = runServe(['--topology', file, ...loopbackPorts, '--admin-listen', '127.0.0.1:0'], bareEnv(dir));
    assert.equal(alias.code, 2, alias.stderr);
    assert.match(alias.stderr, /typo/);
    assert.doesNotMatch(alias.stderr, /ReferenceError|\n\s+at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unexpected failure prints one line plus a hint; the stack only with --log-level debug', async () => {
  const { describeFailure } = await import('../src/cli/errors.js');
  const boom = new TypeError('x is undefined');
  const plain = describeFailure('serve', boom, false);
  assert.equal(plain.exitCode, 1);
  assert.equal(plain.text, 'proxima serve: x is undefined\n(run with --log-level debug for the stack)\n');
  const debug = describeFailure('serve', boom, true);
  assert.match(debug.text, /\n\s+at /);
});

test('--kubernetes with an API server that does not answer: /healthz from the first second, /readyz says why, one warning per resource', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-kc-'));
  const closed = await busyPort();
  closed.close(); // a port nothing listens on
  const kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:' + closed.port + '", insecure-skip-tls-verify: true } }]',
      'users: [{ name: u, user: { token: t } }]',
      'contexts: [{ name: x, context: { cluster: c, user: u } }]',
      'current-context: x',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--kubernetes', '--kubeconfig', kubeconfig, ...loopbackPorts, '--admin-listen', '127.0.0.1:0'],
    { env: bareEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let logs = ''; // JSON logs go to stdout
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (logs += d.toString()));
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const started = Date.now();
  let health: Response | undefined;
  const admin = { port: 0 };
  while (Date.now() - started < 3_000) {
    const m = /"admin":"127\.0\.0\.1:(\d+)"/.exec(logs);
    if (m) {
      admin.port = Number(m[1]);
      health = await fetch(`http://127.0.0.1:${admin.port}/healthz`).catch(() => undefined);
      if (health) break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(health?.status, 200, 'healthz answers while the source is still syncing');
  assert.ok(Date.now() - started < 2_000, `healthz after ${Date.now() - started} ms`);
  const ready = await fetch(`http://127.0.0.1:${admin.port}/readyz`);
  assert.equal(ready.status, 503);
  assert.match(await ready.text(), /Kubernetes informers not synced yet/);
  // Wait (bounded) until every resource has failed and retried at least twice: the repeats must go to
  // the debug log, not to the warnings.
  const retriesPerResource = async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${admin.port}/metrics`)).text();
    return [...metrics.matchAll(/^proxima_kubernetes_watch_errors_total\{resource="(\w+)"\} (\d+)/gm)].map((m) => Number(m[2]));
  };
  for (let waited = 0; waited < 20_000; waited += 250) {
    const retries = await retriesPerResource();
    if (retries.length >= 3 && Math.min(...retries) >= 2) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const retries = await retriesPerResource();
  assert.ok(retries.length >= 3 && Math.min(...retries) >= 2, `retries per resource: ${retries.join(', ')}`);
  const warnings = logs.split('\n').filter((l) => l.includes('kubernetes list/watch failed') && l.includes('"level":40'));
  const perResource = new Map<string, number>();
  for (const w of warnings) {
    const resource = (JSON.parse(w) as { resource: string }).resource;
    perResource.set(resource, (perResource.get(resource) ?? 0) + 1);
  }
  assert.ok(perResource.size >= 3, logs + stderr);
  for (const [resource, n] of perResource) assert.equal(n, 1, `${resource} warned ${n} times`);
});

test('the README quotes the start-up banner as the code prints it, and `npm start` is the quick start', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const defaults = parseOptions(SERVE_SPEC, [], {});
  const at = (name: string) => formatListen(listen(defaults, name));
  const banner = serveBanner({
    policy: String(defaults['policy']),
    nodes: 3,
    services: 2,
    addresses: { xds: at('xds-listen'), extproc: at('extproc-listen'), extender: at('extender-listen'), admin: at('admin-listen') },
  });
  for (const line of banner.split('\n').filter((l) => l.trim())) assert.ok(readme.includes(line), `README lacks the banner line:\n${line}`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts['start']!, /serve --topology examples\/topology\.yaml --example-backends/);
  assert.match(readme, /npm ci && npm start/);
  assert.match(readme, /bash \.ci\/setup\.sh && npm test/);
});

test('the quick start ends in an answered request: --example-backends starts the backends and one request through a real xDS client is served on its entry node', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-quick-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The shipped example topology, with its fixed backend ports moved to free ones so parallel tests cannot collide.
  let topology = readFileSync(join(ROOT, 'examples', 'topology.yaml'), 'utf8');
  for (const port of new Set([...topology.matchAll(/port: (\d+)/g)].map((m) => m[1]!))) {
    const free = await busyPort();
    free.close();
    topology = topology.replaceAll(`port: ${port}`, `port: ${free.port}`);
  }
  writeFileSync(join(dir, 'topology.yaml'), topology);
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--topology', join(dir, 'topology.yaml'), '--example-backends', ...loopbackPorts, '--admin-listen', '127.0.0.1:0'],
    { env: bareEnv(dir), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  const answered = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answered request within 40 s:\n${stderr}`)), 40_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /one request through a real gRPC xDS client as a gateway on (\S+): (\S+) answered by (\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(`${m[1]} ${m[2]} ${m[3]}`);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
  });
  // edge-1 has an echo-grpc endpoint, so the nearest-pod policy answers it there.
  assert.equal(await answered, 'edge-1 xds:///echo-grpc.default.svc.cluster.local edge-1');
  assert.match(stderr, /example backends: 5 started/);
});
