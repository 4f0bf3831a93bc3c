/**
 * The boundaries of `proxima serve` besides gRPC mTLS (tls-mtls.test.ts): plaintext off loopback
 * is a one-line error (exit 2) unless --insecure; the admin port's /debug and /ui are off or need
 * a token when bound off loopback while /metrics, /healthz and /readyz stay open; the extender
 * takes only the scheduler's certificate or its token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { startServe } from '../src/cli/serve.js';
import { adminAccess } from '../src/admin/server.js';
import { fixture } from '../src/extender/testing.js';
import { silentLogger } from '../src/log.js';
import { makeCa, nodeId, requireOpenssl, type CertPair } from './helpers/certs.js';
import { testServeOptions } from './helpers/serve-options.js';
import { metricValue } from './xds-protocol-client.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

function runServe(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, 'serve', ...args], { timeout: 20_000, env: { PATH: process.env.PATH ?? '' } }, (err, _out, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

test('serve: plaintext off loopback, half a TLS pair or an unusable certificate is a one-line error and exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-sec-'));
  try {
    const loopback = ['--extproc-listen', '127.0.0.1:0', '--extender-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'];
    const plain = await runServe(['--xds-listen', '0.0.0.0:0', ...loopback]);
    assert.equal(plain.code, 2, plain.stderr);
    assert.match(plain.stderr, /^proxima serve: --xds-listen 0\.0\.0\.0:0 would be plaintext on a non-loopback address: .*--insecure\n$/);
    const half = await runServe(['--tls-cert', join(dir, 'x.crt'), ...loopback]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /^proxima serve: --tls-cert and --tls-key go together\n$/);
    writeFileSync(join(dir, 'bad.crt'), 'not a certificate');
    writeFileSync(join(dir, 'bad.key'), 'not a key');
    const bad = await runServe(['--tls-cert', join(dir, 'bad.crt'), '--tls-key', join(dir, 'bad.key'), ...loopback]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^proxima serve: TLS: certificate .*bad\.crt is not a PEM certificate/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function get(base: string, path: string, token?: string): Promise<number> {
  const r = await fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  await r.arrayBuffer();
  return r.status;
}

test('admin access: a token when one is configured, else loopback clients only', () => {
  assert.equal(adminAccess(false, false, true), 'ok', 'this host or kubectl port-forward');
  assert.equal(adminAccess(false, false, false), 'off', 'the network, without a token');
  assert.equal(adminAccess(true, false, true), 'no_token', 'a configured token is required even on loopback');
  assert.equal(adminAccess(true, true, false), 'ok');
});

test('admin with a token: /debug and /ui need it, /metrics, /healthz, /readyz stay open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-admin-'));
  const token = 'a-long-enough-admin-token-0123';
  writeFileSync(join(dir, 'token'), `${token}\n`);
  const registry = new Registry();
  const h = await startServe(testServeOptions({ adminTokenFile: join(dir, 'token') }), silentLogger(), registry);
  try {
    const b = `http://${h.addresses.admin}`;
    for (const open of ['/metrics', '/healthz', '/readyz']) assert.equal(await get(b, open), 200, open);
    for (const closed of ['/debug/assignments', '/debug/clients', '/ui', '/debug', '/']) assert.equal(await get(b, closed), 401, closed);
    assert.equal(await get(b, '/debug/assignments', 'wrong-token-wrong-token'), 401);
    assert.equal(await get(b, '/debug/assignments', token), 200);
    assert.equal(await get(b, '/ui', token), 200);
    assert.equal(await metricValue(registry, 'proxima_admin_refused_total', { reason: 'no_token' }), 6);
    // The token file is re-read when it changes (a rotated Secret).
    const next = 'the-next-admin-token-456789';
    await new Promise((r) => setTimeout(r, 1100));
    writeFileSync(join(dir, 'token'), next);
    const deadline = Date.now() + 5000;
    while ((await get(b, '/debug', next)) !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(await get(b, '/debug', next), 200);
    assert.equal(await get(b, '/debug', token), 401);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function post(port: number, path: string, body: string, opts: { ca: Buffer; client?: CertPair; token?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        ca: opts.ca,
        servername: 'localhost',
        ...(opts.client ? { cert: opts.client.cert, key: opts.client.key } : {}),
        headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('extender over mTLS: the scheduler certificate or the token gets in; a node certificate or nothing does not', async (t) => {
  if (!requireOpenssl(t)) return;
  const ca = makeCa();
  const server = ca.issue('proxima', { dns: ['localhost'], ip: ['127.0.0.1'] });
  const scheduler = ca.issue('kube-scheduler', { uri: ['spiffe://cluster.local/scheduler'] });
  const agent = ca.issue('edge-1', { uri: [nodeId('edge-1')] });
  const token = 'extender-token-0123456789';
  writeFileSync(join(ca.dir, 'token'), token);
  writeFileSync(join(ca.dir, 'ca'), ca.cert);
  const registry = new Registry();
  const serve = await startServe(
    testServeOptions({
      tls: { certPath: server.certPath, keyPath: server.keyPath, clientCaPath: join(ca.dir, 'ca') },
      extenderTokenFile: join(ca.dir, 'token'),
    }),
    silentLogger(),
    registry,
  );
  try {
    const port = Number(serve.addresses.extender.slice(serve.addresses.extender.lastIndexOf(':') + 1));
    const args = fixture('args-knative-nodenames.json');
    assert.equal(await post(port, '/filter', args, { ca: ca.cert, client: scheduler }), 200);
    assert.equal(await post(port, '/filter', args, { ca: ca.cert, token }), 200);
    assert.equal(await post(port, '/filter', args, { ca: ca.cert, client: agent }), 401);
    assert.equal(await post(port, '/filter', args, { ca: ca.cert }), 401);
    assert.equal(await post(port, '/filter', args, { ca: ca.cert, token: 'not-the-token-0123456' }), 401);
    assert.equal(await metricValue(registry, 'proxima_extender_requests_total', { outcome: 'unauthorized' }), 3);
  } finally {
    await serve.close();
    ca.cleanup();
  }
});
