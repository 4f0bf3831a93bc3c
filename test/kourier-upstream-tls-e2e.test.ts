/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON and decoded protos */
/**
 * `system-internal-tls` end to end: `proxima serve --kubernetes` against the kube-apiserver
 * STAND-IN (no kube-apiserver here) holding config-network with `system-internal-tls: enabled`,
 * Knative's Secret `knative-serving/routing-serving-certs` (`ca.crt` of a test CA), a Service whose
 * `https` port the KIngress split names at 443 (knative/serving route reconciler under encryption)
 * and a real Node TLS server in its place: the queue-proxy's HTTPS port with a certificate whose
 * SAN is `kn-user-<namespace>` (knative/networking pkg/certificates DataPlaneUserSAN). An Envoy
 * STAND-IN (test/kube/upstream-tls-gateway.ts, no Envoy here) connects with exactly the
 * UpstreamTlsContext Proxima sent over CDS and the CA it sent over SDS. A pod certificate with
 * another namespace's SAN, or from another CA, is refused. Turning the key off in config-network
 * takes the transport socket away live. The CA never appears in CDS or in the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startServe } from '../src/cli/serve.js';
import { TypeUrl } from '../src/xds/resources/types.js';
import { TRUST_CHAIN_SDS_NAME } from '../src/sources/kubernetes/trust-chain.js';
import { makeCa, requireOpenssl, type CertPair } from './helpers/certs.js';
import { capturedLogger } from './helpers/captured-log.js';
import { testServeOptions } from './helpers/serve-options.js';
import { ApiServerStandIn } from './kube/apiserver-standin.js';
import { loadObjects } from './kube/fixtures.js';
import { KOURIER, kubeConfigFor } from './kube/harness.js';
import { UpstreamTlsGateway } from './kube/upstream-tls-gateway.js';
import { until } from './kube/e2e-cluster.js';

const NS = 'tenant-a';
const CLUSTER = `${NS}/secure-00001`;

/** The queue-proxy's HTTPS server (knative/serving pkg/networking BackendHTTPSPort) with `pair`. */
async function queueProxyTls(pair: CertPair, name: string): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' }, (_req, res) => res.end(`${name} ok`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function slice(port: number): Record<string, any> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'secure-00001-abcde', namespace: NS, labels: { 'kubernetes.io/service-name': 'secure-00001' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true }, nodeName: 'edge-1' }],
    ports: [
      { name: 'http', port: 1, protocol: 'TCP' },
      { name: 'https', port, protocol: 'TCP' },
    ],
  };
}

function configNetwork(value: string): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'config-network', namespace: 'knative-serving' },
    data: { 'system-internal-tls': value },
  };
}

test('system-internal-tls: the gateway stand-in reaches a kn-user-<ns> TLS pod with the UpstreamTlsContext and SDS CA Proxima sent; a wrong SAN or CA is refused; off again live', async (t) => {
  if (!requireOpenssl(t)) return;
  const ca = makeCa('knative-routing-ca');
  const other = makeCa('some-other-ca');
  t.after(() => (ca.cleanup(), other.cleanup()));
  const good = await queueProxyTls(ca.issue('qp', { dns: [`kn-user-${NS}`] }), 'good');
  const wrongSan = await queueProxyTls(ca.issue('qp-other', { dns: ['kn-user-tenant-b'] }), 'wrong-san');
  const wrongCa = await queueProxyTls(other.issue('qp', { dns: [`kn-user-${NS}`] }), 'wrong-ca');
  for (const s of [good, wrongSan, wrongCa]) t.after(() => new Promise<void>((r) => s.server.close(() => r())));

  const api = new ApiServerStandIn();
  const url = await api.start();
  t.after(() => api.stop());
  for (const o of loadObjects('nodes.yaml')) api.apply(o);
  api.apply(configNetwork('enabled'));
  api.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'routing-serving-certs', namespace: 'knative-serving' },
    data: { 'ca.crt': ca.cert.toString('base64') },
  });
  api.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'secure-00001', namespace: NS },
    spec: {
      type: 'ClusterIP',
      ports: [
        { name: 'http', port: 80, targetPort: 8012 },
        { name: 'https', port: 443, targetPort: 8112 },
      ],
    },
  });
  api.apply(slice(good.port));
  api.apply({
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    kind: 'Ingress',
    metadata: { name: 'secure', namespace: NS, annotations: { 'networking.knative.dev/ingress.class': KOURIER } },
    spec: {
      rules: [
        {
          hosts: [`secure.${NS}.example.com`],
          visibility: 'ExternalIP',
          http: { paths: [{ splits: [{ serviceNamespace: NS, serviceName: 'secure-00001', servicePort: 443, percent: 100 }] }] },
        },
      ],
    },
  });

  const captured = capturedLogger('debug');
  const serve = await startServe(
    testServeOptions({ kubernetes: true, kubeConfig: kubeConfigFor(url), ingressClass: KOURIER, policy: 'proxima' }),
    captured.log,
  );
  t.after(() => serve.close());
  const gw = new UpstreamTlsGateway(serve.addresses.xds, 'edge-1');
  t.after(() => gw.close());

  await until('the TLS cluster, its endpoints and the SDS validation context reached the gateway', () =>
    Boolean(
      gw.tlsContextOf(CLUSTER) &&
      gw.resources.get(TypeUrl.Secret)?.get(TRUST_CHAIN_SDS_NAME) &&
      gw.resources.get(TypeUrl.ClusterLoadAssignment)?.get(CLUSTER),
    ),
  );
  const ctx = gw.tlsContextOf(CLUSTER);
  assert.deepEqual(
    ctx.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names.map(
      (m: any) => `${m.san_type}:${m.matcher.exact}`,
    ),
    ['DNS:kn-routing', `DNS:kn-user-${NS}`],
  );
  const caLine = ca.cert.toString().split('\n')[1]!;
  assert.ok(!JSON.stringify(gw.resources.get(TypeUrl.Cluster)!.get(CLUSTER)).includes(caLine), 'the CA is not in CDS');

  const ok = await gw.get(CLUSTER);
  assert.deepEqual(ok, { status: 200, body: 'good ok', tlsVersion: 'TLSv1.3' });

  // A pod certificate for another namespace's SAN: refused by the SAN check.
  api.apply(slice(wrongSan.port));
  await until(
    'EDS moved to the wrong-SAN pod',
    () =>
      gw.resources.get(TypeUrl.ClusterLoadAssignment)?.get(CLUSTER)?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address
        ?.port_value === wrongSan.port,
  );
  await assert.rejects(gw.get(CLUSTER), /SAN mismatch: the certificate carries kn-user-tenant-b/);
  // Right SAN, signed by a CA the trust chain does not hold: refused by the chain check.
  api.apply(slice(wrongCa.port));
  await until(
    'EDS moved to the other-CA pod',
    () =>
      gw.resources.get(TypeUrl.ClusterLoadAssignment)?.get(CLUSTER)?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address
        ?.port_value === wrongCa.port,
  );
  await assert.rejects(gw.get(CLUSTER), /certificate/i);

  // A trust-bundle ConfigMap adds the other CA: the chain (one SDS Secret) changes, the cluster does not.
  const clusterBefore = JSON.stringify(gw.resources.get(TypeUrl.Cluster)!.get(CLUSTER));
  api.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'extra-ca', namespace: 'knative-serving', labels: { 'networking.knative.dev/trust-bundle': 'true' } },
    data: { 'ca.pem': other.cert.toString() },
  });
  await until('the trust chain holds the second CA', () => {
    const s = gw.resources.get(TypeUrl.Secret)?.get(TRUST_CHAIN_SDS_NAME);
    return Boolean(s && Buffer.from(s.validation_context.trusted_ca.inline_bytes).includes(other.cert));
  });
  assert.deepEqual(await gw.get(CLUSTER), { status: 200, body: 'wrong-ca ok', tlsVersion: 'TLSv1.3' });
  assert.equal(JSON.stringify(gw.resources.get(TypeUrl.Cluster)!.get(CLUSTER)), clusterBefore, 'no cluster change on a CA change');

  // Off again, live: the cluster loses its transport socket.
  api.apply(configNetwork('disabled'));
  await until('the transport socket is gone', () => gw.resources.get(TypeUrl.Cluster)?.get(CLUSTER) && !gw.tlsContextOf(CLUSTER));

  for (const pem of [ca.cert, other.cert]) assert.ok(!captured.text().includes(pem.toString().split('\n')[1]!), 'no CA bytes in the log');
  assert.ok(captured.text().length > 0, 'the log was captured');
});
