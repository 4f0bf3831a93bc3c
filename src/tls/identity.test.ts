import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromSan, uriSans } from './identity.js';
import { isLoopback, judgeListener } from './listener-policy.js';

test('URI SANs are read from Node’s subjectaltname string, quoted or not', () => {
  assert.deepEqual(uriSans('DNS:a, URI:spiffe://cluster.local/node/edge-1, IP Address:10.0.0.1'), ['spiffe://cluster.local/node/edge-1']);
  assert.deepEqual(uriSans('URI:"spiffe://x/node/a,b", URI:spiffe://x/scheduler'), ['spiffe://x/node/a,b', 'spiffe://x/scheduler']);
  assert.deepEqual(uriSans(undefined), []);
});

test('identity: node and scheduler in the trust domain; anything else is no identity', () => {
  const td = 'cluster.local';
  assert.deepEqual(identityFromSan('URI:spiffe://cluster.local/node/edge-1', td), { kind: 'node', node: 'edge-1' });
  assert.deepEqual(identityFromSan('URI:spiffe://cluster.local/scheduler', td), { kind: 'scheduler' });
  for (const san of [
    'URI:spiffe://evil.example/node/edge-1',
    'URI:spiffe://cluster.local/node/',
    'URI:spiffe://cluster.local/node/a/b',
    'URI:spiffe://cluster.local/workload/x',
    'DNS:edge-1',
    undefined,
  ])
    assert.equal(identityFromSan(san, td).kind, 'none', String(san));
});

test('listeners: plaintext is fine on loopback, needs --insecure elsewhere, TLS is fine anywhere', () => {
  for (const h of ['127.0.0.1', '127.3.0.1', '::1', 'localhost']) assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '']) assert.ok(!isLoopback(h), h);
  assert.deepEqual(judgeListener('xds-listen', { host: '127.0.0.1', port: 0 }, false, false), { ok: true });
  assert.deepEqual(judgeListener('xds-listen', { host: '0.0.0.0', port: 18000 }, true, false), { ok: true });
  const refused = judgeListener('xds-listen', { host: '0.0.0.0', port: 18000 }, false, false);
  assert.ok(!refused.ok && /--xds-listen 0\.0\.0\.0:18000 would be plaintext.*--insecure/.test(refused.error));
  const warned = judgeListener('xds-listen', { host: '0.0.0.0', port: 18000 }, false, true);
  assert.ok(warned.ok && warned.warning && /--insecure/.test(warned.warning));
});
