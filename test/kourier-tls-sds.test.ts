/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON and decoded protos */
/**
 * TLS end to end the Kourier way, with the certificate delivered over SDS: `proxima serve
 * --kubernetes` against the kube-apiserver STAND-IN (no kube-apiserver here) holding a KIngress
 * with `spec.tls` and its `kubernetes.io/tls` Secret; an Envoy STAND-IN (test/kube/sds-gateway.ts,
 * no Envoy here) that terminates TLS with exactly what Proxima sent over ADS (LDS listener_8443
 * SNI chain → SDS Secret, RDS → CDS → EDS to the pod); a real Node TLS client that verifies the
 * certificate against the test CA. Then the Secret is rotated: the open connection keeps working,
 * new handshakes get the new certificate, and the listener is not re-sent (no drain). The key
 * never appears in LDS or in the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Agent, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { startServe } from '../src/cli/serve.js';
import { TypeUrl } from '../src/xds/resources/types.js';
import { makeCa, requireOpenssl } from './helpers/certs.js';
import { capturedLogger } from './helpers/captured-log.js';
import { testServeOptions } from './helpers/serve-options.js';
import { ApiServerStandIn } from './kube/apiserver-standin.js';
import { loadObjects } from './kube/fixtures.js';
import { KOURIER, kubeConfigFor } from './kube/harness.js';
import { SdsTlsGateway } from './kube/sds-gateway.js';
import { until } from './kube/e2e-cluster.js';

const HOST = 'secure.default.example.com';

function secret(cert: Buffer, key: Buffer): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: 'secure-cert', namespace: 'default' },
    data: { 'tls.crt': cert.toString('base64'), 'tls.key': key.toString('base64') },
  };
}

/** One HTTPS GET through `agent` (keep-alive); resolves with the body, the socket and the peer certificate fingerprint. */
function get(port: number, ca: Buffer, agent: Agent): Promise<{ body: string; socket: TLSSocket; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: HOST, path: '/', headers: { host: HOST }, ca, agent }, (res) => {
      let body = '';
      const socket = res.socket as TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ body, socket, fingerprint }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('TLS via SDS: a Node TLS client reaches the pod with the Secret’s certificate; a rotated Secret takes effect without dropping the open connection', async (t) => {
  if (!requireOpenssl(t)) return;
  const ca = makeCa();
  t.after(() => ca.cleanup());
  const first = ca.issue('secure', { dns: [HOST] });
  const second = ca.issue('secure', { dns: [HOST] });

  // The emulated revision pod (HTTP/1.1, keep-alive) on edge-1.
  let served = 0;
  const pod: Server = createServer((_req, res) => res.end(`pod ${++served}`));
  await new Promise<void>((r) => pod.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => pod.close(() => r())));
  const podPort = (pod.address() as AddressInfo).port;

  const api = new ApiServerStandIn();
  const url = await api.start();
  t.after(() => api.stop());
  for (const o of loadObjects('nodes.yaml')) api.apply(o);
  api.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'secure', namespace: 'default' },
    spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: podPort }] },
  });
  api.apply({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'secure-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'secure' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true }, nodeName: 'edge-1' }],
    ports: [{ name: 'http', port: podPort, protocol: 'TCP' }],
  });
  api.apply(secret(first.cert, first.key));
  api.apply({
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    kind: 'Ingress',
    metadata: { name: 'secure', namespace: 'default', annotations: { 'networking.knative.dev/ingress.class': KOURIER } },
    spec: {
      rules: [
        {
          hosts: [HOST],
          visibility: 'ExternalIP',
          http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'secure', servicePort: 80, percent: 100 }] }] },
        },
      ],
      tls: [{ hosts: [HOST], secretNamespace: 'default', secretName: 'secure-cert' }],
    },
  });

  const captured = capturedLogger('debug');
  const serve = await startServe(
    testServeOptions({ kubernetes: true, kubeConfig: kubeConfigFor(url), ingressClass: KOURIER, policy: 'proxima' }),
    captured.log,
  );
  t.after(() => serve.close());

  const gateway = new SdsTlsGateway(serve.addresses.xds, 'edge-1');
  t.after(() => gateway.close());
  const port = await gateway.listen();
  await until('listener_8443, its SDS Secret, RDS and EDS reached the gateway', () => {
    const cla = gateway.resources.get(TypeUrl.ClusterLoadAssignment)?.get('default/secure');
    return Boolean(gateway.resources.get(TypeUrl.Secret)?.get('default/secure-cert') && cla?.endpoints?.length);
  });

  const listenerBefore = JSON.stringify(gateway.resources.get(TypeUrl.Listener)!.get('listener_8443'));
  assert.ok(!listenerBefore.includes(first.key.toString('base64').slice(30, 70)), 'the key is not in LDS');
  assert.ok(!Buffer.from(JSON.stringify(gateway.resources.get(TypeUrl.Listener)!.get('listener_8443'))).includes('PRIVATE KEY'));
  const ldsVersions = gateway.versions.get(TypeUrl.Listener)!.length;

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const a = await get(port, ca.cert, agent);
  assert.equal(a.body, 'pod 1');
  const fpFirst = new (await import('node:crypto')).X509Certificate(first.cert).fingerprint256;
  const fpSecond = new (await import('node:crypto')).X509Certificate(second.cert).fingerprint256;
  assert.equal(a.fingerprint, fpFirst, 'the certificate from the Secret, verified against the CA');

  // Rotate the Secret.
  api.apply(secret(second.cert, second.key));
  await until('the rotated certificate arrived over SDS', () => {
    const s = gateway.resources.get(TypeUrl.Secret)?.get('default/secure-cert');
    return s && Buffer.from(s.tls_certificate.certificate_chain.inline_bytes).equals(second.cert);
  });

  // The open connection is untouched: the next request reuses the socket of the first handshake.
  const b = await get(port, ca.cert, agent);
  assert.equal(b.body, 'pod 2');
  assert.equal(b.socket, a.socket, 'same TLS connection');
  assert.equal(b.fingerprint, fpFirst, 'still the certificate it was opened with');
  // A new connection gets the rotated certificate.
  const fresh = new Agent({ keepAlive: false });
  t.after(() => fresh.destroy());
  const c = await get(port, ca.cert, fresh);
  assert.equal(c.body, 'pod 3');
  assert.equal(c.fingerprint, fpSecond);
  // Only SDS changed: the listener was not re-sent, so an Envoy would not drain it.
  assert.equal(gateway.versions.get(TypeUrl.Listener)!.length, ldsVersions, 'no LDS push on rotation');
  assert.equal(JSON.stringify(gateway.resources.get(TypeUrl.Listener)!.get('listener_8443')), listenerBefore);

  // Never logged: neither key (nor certificate) bytes appear in any log line.
  for (const pair of [first, second]) {
    assert.ok(!captured.text().includes(pair.key.toString('base64').slice(30, 70)), 'no key (base64) in the log');
    assert.ok(!captured.text().includes(pair.key.toString('utf8').split('\n')[1]!), 'no key (PEM) in the log');
  }
  assert.ok(captured.text().length > 0, 'the log was captured');
});
