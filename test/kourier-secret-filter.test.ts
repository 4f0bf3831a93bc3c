/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * net-kourier's ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID (pkg/reconciler/informerfiltering):
 * the Secret informer lists and watches only Secrets labelled
 * `networking.internal.knative.dev/certificate-uid` instead of every Secret of the cluster. Against
 * the kube-apiserver STAND-IN (no kube-apiserver here), which applies label selectors to lists and
 * watches as the apiserver does: the labelled certificate is served, an unlabelled one is never
 * seen (its KIngress waits, as under Kourier with the filter), and the request carried the selector.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TlsSecretStore } from '../src/model/tls-secrets.js';
import { parseOptions } from '../src/config.js';
import { SERVE_SPEC } from '../src/cli/specs.js';
import { serveOptionsFrom } from '../src/cli/serve.js';
import { eventually, newSource, startStandIn, KOURIER } from './kube/harness.js';

const LABEL = 'networking.internal.knative.dev/certificate-uid';
const PEM_CERT = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64');
const PEM_KEY = Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n').toString('base64');

function secret(name: string, labelled: boolean): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace: 'default', ...(labelled ? { labels: { [LABEL]: 'uid-1' } } : {}) },
    data: { 'tls.crt': PEM_CERT, 'tls.key': PEM_KEY },
  };
}

function tlsIngress(name: string, host: string, secretName: string): Record<string, any> {
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', annotations: { 'networking.knative.dev/ingress.class': KOURIER } },
    spec: {
      rules: [
        {
          hosts: [host],
          visibility: 'ExternalIP',
          http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'hello-00001', servicePort: 80, percent: 100 }] }] },
        },
      ],
      tls: [{ hosts: [host], secretNamespace: 'default', secretName }],
    },
  };
}

test('Secret informer filtering by certificate-uid: only labelled Secrets are listed, watched and served', async (t) => {
  const { api, url } = await startStandIn();
  t.after(() => api.stop());
  api.apply(secret('labelled-cert', true));
  api.apply(secret('unlabelled-cert', false));
  api.apply(tlsIngress('secure-a', 'a.default.example.com', 'labelled-cert'));
  api.apply(tlsIngress('secure-b', 'b.default.example.com', 'unlabelled-cert'));
  const tlsSecrets = new TlsSecretStore();
  const { source } = newSource(url, { isProgrammed: () => true, kourier: { tlsSecrets, secretLabelSelector: LABEL } });
  t.after(() => source.stop());
  await source.start();
  await eventually(() => tlsSecrets.names().includes('default/labelled-cert'));
  assert.deepEqual(tlsSecrets.names(), ['default/labelled-cert']);
  const b = source.translation!.ingresses.find((i) => i.key === 'default/secure-b')!;
  assert.deepEqual([b.outcome.kind, (b.outcome as any).reason], ['pending', 'SecretNotFound']);
  const lists = api.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/secrets');
  assert.ok(lists.length >= 2, 'listed and watched');
  for (const r of lists) assert.equal(new URLSearchParams(r.query).get('labelSelector'), LABEL, r.query);

  // Labelling the other Secret brings it in over the watch.
  api.apply(secret('unlabelled-cert', true));
  await eventually(() => tlsSecrets.names().includes('default/unlabelled-cert'));
  await eventually(() => source.translation!.ingresses.find((i) => i.key === 'default/secure-b')!.outcome.kind === 'ok');
});

test('Secret informer filtering: ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID (net-kourier env) or the flag; off by default, as Kourier', () => {
  const parse = (argv: string[], env: Record<string, string>) => serveOptionsFrom(parseOptions(SERVE_SPEC, argv, env)).kourier!;
  assert.equal(parse(['--kubernetes'], { ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID: 'true' }).secretLabelSelector, LABEL);
  assert.equal(parse(['--kubernetes', '--secret-informer-filtering-by-cert-uid'], {}).secretLabelSelector, LABEL);
  assert.equal(parse(['--kubernetes'], {}).secretLabelSelector, undefined);
});
