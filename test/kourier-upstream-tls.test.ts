/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON and Envoy resources */
/**
 * `system-internal-tls` (config-network) as net-kourier builds it (pkg/generator/ingress_translator.go
 * createUpstreamTLSContext, buildTrustChain): on recorded Knative objects (test/kube/fixtures, the
 * KIngress splits at port 443 as knative/serving pkg/reconciler/route/resources/ingress.go sets them
 * under encryption), every backend cluster gets an UpstreamTlsContext (TLS 1.3 only, SANs
 * `kn-routing` and `kn-user-<namespace>`, knative/networking pkg/certificates/constants.go), the
 * endpoints move to the HTTPS target port 8112 (knative/serving pkg/networking/constants.go
 * BackendHTTPSPort, for pods and activators alike), and the CA bundle travels over SDS as a
 * validation context, never in CDS. No Envoy runs here: every resource is checked against Envoy's
 * protos (strict decode, unknown fields refused, decode → re-encode byte-exact).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelStore } from '../src/model/store.js';
import { DEFAULT_GATEWAY_CONFIG, DEFAULT_MODEL_DEFAULTS } from '../src/model/types.js';
import { gatewayConfigFrom } from '../src/sources/kubernetes/gateway-config.js';
import { translateCluster, type ClusterObjects } from '../src/sources/kubernetes/translate.js';
import { certBundleError, TRUST_CHAIN_SDS_NAME, trustChainFrom } from '../src/sources/kubernetes/trust-chain.js';
import { buildShared, DEFAULT_BUILD_OPTIONS } from '../src/xds/resources/index.js';
import { buildSdsSecret } from '../src/xds/resources/secrets.js';
import { buildSnapshot } from '../src/xds/snapshot/build.js';
import { TlsSecretStore } from '../src/model/tls-secrets.js';
import { TypeUrl } from '../src/xds/resources/types.js';
import { assertEnvoyValid } from './kourier/conformance-harness.js';
import { makeCa, requireOpenssl } from './helpers/certs.js';
import { clusterObjects, latestByName, loadObjects } from './kube/fixtures.js';
import { replica } from '../src/xds/snapshot/testing.js';

const CLASS = 'kourier.ingress.networking.knative.dev';
const CLUSTER = 'default/hello-00001';
const FILES = [
  'nodes.yaml',
  'hello-revisions.yaml',
  'hello-endpointslices-serve.yaml',
  'hello-ingress.yaml',
  'activator-common.yaml',
  'activator-sks-proxy.yaml',
];

/** The recorded objects with every split at 443 (the route reconciler under system-internal-tls). */
function objects(extra: readonly any[] = [], edit?: (ingress: any) => void): ClusterObjects {
  // Later files replace earlier objects of the same kind and name (the Proxy-mode slice replaces the Serve one).
  const recorded = latestByName(FILES.flatMap((f) => loadObjects(f)));
  for (const o of recorded.filter((x) => x['kind'] === 'Ingress')) {
    for (const r of o['spec'].rules) for (const p of r.http.paths) for (const s of p.splits) s.servicePort = 443;
    edit?.(o);
  }
  return clusterObjects([...recorded, ...extra]);
}

function routingSecret(caPem: Buffer | string): any {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'routing-serving-certs', namespace: 'knative-serving' },
    data: { 'ca.crt': Buffer.from(caPem).toString('base64') },
  };
}

function trustBundle(name: string, data: Record<string, string>, labelled = true, namespace = 'knative-serving'): any {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: labelled ? { 'networking.knative.dev/trust-bundle': 'true' } : {} },
    data,
  };
}

const enabled = { systemInternalTls: { systemNamespace: 'knative-serving' } };

test('config-network: system-internal-tls enabled/disabled, the deprecated internal-encryption, a bad value reported', () => {
  const of = (network: Record<string, string> | undefined) => gatewayConfigFrom({ kourier: {}, network, gatewayNamespace: 'k' });
  assert.equal(of({ 'system-internal-tls': 'enabled' }).config.systemInternalTls, true);
  assert.equal(of({ 'system-internal-tls': 'Enabled' }).config.systemInternalTls, true);
  assert.equal(of({ 'system-internal-tls': 'disabled' }).config.systemInternalTls, false);
  assert.equal(of(undefined).config.systemInternalTls, false);
  assert.equal(of({ 'internal-encryption': 'true' }).config.systemInternalTls, true);
  assert.equal(of({ 'system-internal-tls': 'disabled', 'internal-encryption': 'true' }).config.systemInternalTls, true);
  const bad = of({ 'system-internal-tls': 'yes' });
  assert.equal(bad.config.systemInternalTls, false);
  assert.deepEqual(
    bad.issues.map((i) => `${i.configMap}/${i.key}: ${i.message}`),
    ['config-network/system-internal-tls: system-internal-tls: "yes" is not enabled or disabled; it stays disabled'],
  );
  assert.deepEqual(of({ 'system-internal-tls': 'enabled' }).issues, [], 'no longer reported as unsupported');
});

test('trust chain: ca.crt of routing-serving-certs plus every labelled ConfigMap of the system namespace; bad bundles left out', (t) => {
  if (!requireOpenssl(t)) return;
  const a = makeCa('ca-a');
  const b = makeCa('ca-b');
  t.after(() => (a.cleanup(), b.cleanup()));
  const leaf = a.issue('leaf', { dns: ['x'] });
  const r = trustChainFrom({
    systemNamespace: 'knative-serving',
    routingSecret: routingSecret(a.cert),
    configMaps: [
      trustBundle('z-bundle', { 'b.pem': b.cert.toString(), 'bad.pem': 'not a certificate' }),
      trustBundle('a-key', { 'k.pem': leaf.key.toString() }),
      trustBundle('unlabelled', { 'u.pem': b.cert.toString() }, false),
      trustBundle('elsewhere', { 'e.pem': b.cert.toString() }, true, 'default'),
    ],
  });
  assert.equal(r.trustedCa?.name, TRUST_CHAIN_SDS_NAME);
  assert.equal(r.trustedCa?.trustedCaPem, `${a.cert.toString()}\n${b.cert.toString()}`);
  assert.deepEqual(r.warnings, [
    'CA bundle ConfigMap knative-serving/a-key[k.pem] contains a PRIVATE KEY block, not only certificates; it is ignored',
    'CA bundle ConfigMap knative-serving/z-bundle[bad.pem] contains something other than PEM certificates; it is ignored',
  ]);
  for (const w of r.warnings) assert.ok(!w.includes('BEGIN'), 'no bytes in a warning');
  assert.equal(certBundleError(`${a.cert}\n\n${b.cert}`), undefined);
  const lines = a.cert.toString().split('\n');
  lines[2] = 'A'.repeat(lines[2]!.length);
  assert.match(certBundleError(lines.join('\n')) ?? '', /certificate 1 does not parse/);
  assert.equal(trustChainFrom({ systemNamespace: 'knative-serving', routingSecret: undefined, configMaps: [] }).trustedCa, undefined);
});

test('system-internal-tls: each backend cluster gets Kourier’s UpstreamTlsContext (TLS 1.3, kn-routing / kn-user-<ns>), the CA over SDS, endpoints on 8112', (t) => {
  if (!requireOpenssl(t)) return;
  const ca = makeCa();
  t.after(() => ca.cleanup());
  const tr = translateCluster(objects([routingSecret(ca.cert)]), { ingressClass: CLASS, defaultCapacity: 10, ...enabled });
  assert.deepEqual(
    tr.ingresses.map((i) => i.outcome.kind),
    tr.ingresses.map(() => 'ok'),
  );
  const svc = tr.services.find((s) => s.name === CLUSTER)!;
  assert.deepEqual(svc.upstreamTls, { subjectAltNames: ['kn-routing', 'kn-user-default'], trustedCaSecret: TRUST_CHAIN_SDS_NAME });
  // The https port (443 → 8112) of the public, private and activator Services: pods and activator on 8112.
  assert.deepEqual(
    [...svc.endpoints.map((e) => `pod ${e.address}:${e.port}`), ...(svc.activators ?? []).map((e) => `activator ${e.address}:${e.port}`)],
    ['pod 10.1.1.5:8112', 'pod 10.1.2.5:8112', 'activator 10.1.3.200:8112'],
  );
  const store = new ModelStore();
  store.replaceTopology({ nodes: tr.nodes, latency: [], services: tr.services, defaults: DEFAULT_MODEL_DEFAULTS });
  store.setRoutes(tr.routes);
  store.setGatewayConfig({ ...DEFAULT_GATEWAY_CONFIG, systemInternalTls: true });
  const shared = buildShared(store, DEFAULT_BUILD_OPTIONS);
  const cluster = shared.clusters.find((c) => c.name === CLUSTER)!;
  assertEnvoyValid(cluster);
  const v = cluster.value as any;
  assert.deepEqual(v.transport_socket, {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3' },
        combined_validation_context: {
          default_validation_context: {
            match_typed_subject_alt_names: [
              { san_type: 'DNS', matcher: { exact: 'kn-routing' } },
              { san_type: 'DNS', matcher: { exact: 'kn-user-default' } },
            ],
          },
          validation_context_sds_secret_config: { name: TRUST_CHAIN_SDS_NAME, sds_config: { ads: {}, resource_api_version: 'V3' } },
        },
      },
    },
  });
  assert.ok(!JSON.stringify(v).includes('BEGIN CERTIFICATE'), 'the CA is not inlined in CDS');
  // The CA bundle as an SDS validation context.
  const ours = tr.tlsSecrets.find((s) => s.name === TRUST_CHAIN_SDS_NAME)!;
  const sds = buildSdsSecret(ours);
  assertEnvoyValid(sds);
  assert.deepEqual(Object.keys(sds.value).sort(), ['name', 'validation_context']);
  assert.ok(Buffer.from((sds.value as any).validation_context.trusted_ca.inline_bytes).equals(Buffer.from(ca.cert.toString())));

  // The snapshot serves it: SDS holds the bundle because a cluster names it.
  const secrets = new TlsSecretStore();
  secrets.replace(tr.tlsSecrets);
  const r = replica({ nodes: tr.nodes, latency: [], services: tr.services, defaults: DEFAULT_MODEL_DEFAULTS });
  r.store.setRoutes(tr.routes);
  const snap = buildSnapshot({ ...r.input, tlsSecrets: secrets });
  t.after(() => r.engine.stop());
  assert.deepEqual([...snap.shared.get(TypeUrl.Secret)!.byName.keys()], [TRUST_CHAIN_SDS_NAME]);
  assert.deepEqual(snap.errors, []);
});

test('system-internal-tls: h2c backends ask ALPN h2; rewriteHost paths and disabled TLS get no transport socket; no CA leaves the KIngress pending with its routes', (t) => {
  if (!requireOpenssl(t)) return;
  const ca = makeCa();
  t.after(() => ca.cleanup());
  const h2c = objects([routingSecret(ca.cert)]);
  for (const s of h2c.services as any[])
    if (s.metadata.name === 'hello-00001') s.spec.ports.push({ name: 'http2', port: 81, targetPort: 8013 });
  const trH2 = translateCluster(h2c, { ingressClass: CLASS, defaultCapacity: 10, ...enabled });
  const store = new ModelStore();
  store.replaceTopology({ nodes: trH2.nodes, latency: [], services: trH2.services, defaults: DEFAULT_MODEL_DEFAULTS });
  const h2Cluster = buildShared(store, DEFAULT_BUILD_OPTIONS).clusters.find((c) => c.name === CLUSTER)!;
  assertEnvoyValid(h2Cluster);
  assert.deepEqual((h2Cluster.value as any).transport_socket.typed_config.common_tls_context.alpn_protocols, ['h2']);

  // A rewriteHost path (DomainMapping → kourier-internal): no upstream TLS on what it reaches, as Kourier.
  const rewrite = translateCluster(
    objects([routingSecret(ca.cert)], (ing) => {
      for (const r of ing.spec.rules) for (const p of r.http.paths) p.rewriteHost = 'hello.default.example.com';
    }),
    { ingressClass: CLASS, defaultCapacity: 10, ...enabled },
  );
  assert.equal(rewrite.services.find((s) => s.name === CLUSTER)?.upstreamTls, undefined);

  const off = translateCluster(objects([routingSecret(ca.cert)]), { ingressClass: CLASS, defaultCapacity: 10 });
  assert.equal(off.services.find((s) => s.name === CLUSTER)?.upstreamTls, undefined);
  assert.ok(!off.tlsSecrets.some((s) => s.name === TRUST_CHAIN_SDS_NAME), 'no bundle served while disabled');

  // Enabled without any valid CA: Kourier fails the translation ("failed to build trust-chain");
  // here every KIngress is pending, keeps its previous routes and says why.
  const missing = translateCluster(objects([trustBundle('junk', { 'x.pem': 'nope' })]), {
    ingressClass: CLASS,
    defaultCapacity: 10,
    ...enabled,
    previous: off,
  });
  const ing = missing.ingresses[0]!;
  assert.equal(ing.outcome.kind, 'pending');
  assert.equal((ing.outcome as any).reason, 'TrustChainMissing');
  assert.deepEqual(ing.routes, off.ingresses[0]!.routes, 'the previous routes stay in force');
  assert.ok(missing.secretErrors.some((e) => e.includes('no valid CA certificate')));
});
