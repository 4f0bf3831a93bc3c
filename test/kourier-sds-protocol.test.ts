/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded protos */
/**
 * SDS on the xDS server (raw ADS client, loopback; Envoy's own SecretDiscoveryService semantics:
 * Secrets are named resources, fetched by the names the listeners' tls_certificate_sds_secret_configs
 * carry). Only certificates a listener names are served; SotW and Delta both see a rotation as an
 * update of that one resource and its removal as a deletion; the listeners do not change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TlsSecretStore } from '../src/model/tls-secrets.js';
import { decodeAny, namesOf, node, RawClient, startFixture, TypeUrl } from './xds-protocol-client.js';

const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`;
const pair = (name: string, v: string) => ({
  name,
  certificateChainPem: pem('CERTIFICATE', `cert ${v}`),
  privateKeyPem: pem('PRIVATE KEY', `key ${v}`),
});

test('SDS over ADS: only named certificates, rotation is one Secret update (SotW and Delta), the listener stays', async (t) => {
  const secrets = new TlsSecretStore();
  secrets.replace([pair('default/a-cert', '1'), pair('default/unused', '1')]);
  const fx = await startFixture(undefined, { tlsSecrets: secrets });
  t.after(() => fx.close());
  fx.store.setRoutes([
    {
      name: 'default/a#0',
      hosts: ['a.example.com'],
      visibility: ['external', 'internal'],
      rules: [
        {
          pathPrefix: '/',
          headers: [],
          splits: [{ service: 'default/hello', percent: 100, appendHeaders: {} }],
          appendHeaders: {},
          timeoutMs: 0,
        },
      ],
      tls: [{ hosts: ['a.example.com'], secret: 'default/a-cert' }],
    },
  ]);
  const client = new RawClient(fx.address);
  t.after(() => client.close());

  const sotw = client.ads();
  t.after(() => sotw.close());
  sotw.send({ node: node('gw', 'edge-1'), type_url: TypeUrl.Listener, resource_names: [] });
  const lds = await sotw.next();
  assert.ok(namesOf(lds).includes('listener_8443'));
  sotw.send({ type_url: TypeUrl.Listener, version_info: lds.version_info, response_nonce: lds.nonce, resource_names: [] });
  sotw.send({ type_url: TypeUrl.Secret, resource_names: ['default/a-cert', 'default/unused'] });
  const sds1 = await sotw.next();
  assert.equal(sds1.type_url, TypeUrl.Secret);
  assert.deepEqual(namesOf(sds1), ['default/a-cert'], 'a Secret no listener names is not served');
  const s1 = decodeAny(sds1.resources![0]!) as any;
  assert.equal(Buffer.from(s1.tls_certificate.private_key.inline_bytes).toString(), pair('x', '1').privateKeyPem);
  sotw.send({
    type_url: TypeUrl.Secret,
    version_info: sds1.version_info,
    response_nonce: sds1.nonce,
    resource_names: ['default/a-cert', 'default/unused'],
  });

  const delta = client.delta();
  t.after(() => delta.close());
  delta.send({ node: node('gw-d', 'edge-1'), type_url: TypeUrl.Secret, resource_names_subscribe: ['default/a-cert'] });
  const d1 = await delta.next();
  assert.deepEqual(
    (d1.resources ?? []).map((r) => r.name),
    ['default/a-cert'],
  );
  delta.send({ type_url: TypeUrl.Secret, response_nonce: d1.nonce });

  secrets.replace([pair('default/a-cert', '2'), pair('default/unused', '1')]);
  const sds2 = await sotw.next();
  assert.notEqual(sds2.version_info, sds1.version_info);
  assert.equal(
    Buffer.from((decodeAny(sds2.resources![0]!) as any).tls_certificate.certificate_chain.inline_bytes).toString(),
    pair('x', '2').certificateChainPem,
  );
  const d2 = await delta.next();
  assert.deepEqual(
    (d2.resources ?? []).map((r) => r.name),
    ['default/a-cert'],
  );
  assert.notEqual(d2.resources![0]!.version, d1.resources![0]!.version);
  await sotw.none(200); // nothing else: in particular no LDS push for a rotation
  sotw.send({
    type_url: TypeUrl.Secret,
    version_info: sds2.version_info,
    response_nonce: sds2.nonce,
    resource_names: ['default/a-cert', 'default/unused'],
  });
  delta.send({ type_url: TypeUrl.Secret, response_nonce: d2.nonce });

  secrets.replace([pair('default/unused', '1')]);
  const d3 = await delta.next();
  assert.deepEqual(d3.removed_resources, ['default/a-cert']);
});
