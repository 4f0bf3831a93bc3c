/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * net-kourier's lifecycle rules on the pure translation (src/sources/kubernetes/translate.ts):
 * DomainConflict (pkg/generator/caches.go ErrDomainConflict), a missing backend Service keeps the
 * previous routes (pkg/generator/ingress_translator.go returns nil and the caches keep the last
 * config), a KIngress being deleted loses its routes at once, and config-kourier keys parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translateCluster, type ClusterTranslation } from '../src/sources/kubernetes/translate.js';
import { gatewayConfigFrom, parseGoDurationMs } from '../src/sources/kubernetes/gateway-config.js';
import { desiredStatus, DEFAULT_LOAD_BALANCERS } from '../src/sources/kubernetes/status.js';
import { backend, DOMAIN, kingress, KOURIER_CLASS, split } from './kourier/conformance-harness.js';
import { serveOptionsFrom } from '../src/cli/serve.js';
import { buildGatewayListeners } from '../src/xds/resources/listeners.js';
import { assertEnvoyValid } from './kourier/conformance-harness.js';
import { SERVE_SPEC } from '../src/cli/specs.js';
import { parseOptions } from '../src/config.js';

const NODE = { metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };

function translate(objects: any[], previous?: ClusterTranslation): ClusterTranslation {
  const of = (k: string) => objects.filter((o) => o.kind === k);
  return translateCluster(
    { nodes: [NODE], services: of('Service'), endpointSlices: of('EndpointSlice'), revisions: [], ingresses: of('Ingress') },
    { ingressClass: KOURIER_CLASS, defaultCapacity: 10, ...(previous ? { previous } : {}) },
  );
}

const rule = (host: string, b: ReturnType<typeof backend>) => ({
  hosts: [host],
  visibility: 'ExternalIP',
  http: { paths: [{ splits: [split(b)] }] },
});

test('DomainConflict: the older KIngress keeps a contested host; the newer one is refused with Kourier’s reason', () => {
  const b = backend('dc');
  const older = kingress('older', { rules: [rule(`dc.${DOMAIN}`, b)] });
  const newer = kingress('newer', { rules: [rule(`dc.${DOMAIN}`, b)] });
  newer.metadata.creationTimestamp = '2026-02-01T00:00:00Z';
  const t = translate([...b.objects, newer, older]);
  const by = (n: string) => t.ingresses.find((i) => i.name === n)!;
  assert.equal(by('older').outcome.kind, 'ok');
  assert.deepEqual(by('newer').outcome, {
    kind: 'conflict',
    reason: 'DomainConflict',
    message: `host dc.${DOMAIN} is already served by KIngress serving-tests/older`,
  });
  assert.deepEqual(by('newer').routes, []);
  assert.deepEqual(
    t.routes.map((r) => r.name),
    ['serving-tests/older#0'],
  );
  const st = desiredStatus(by('newer'), false, DEFAULT_LOAD_BALANCERS, undefined, 0);
  assert.deepEqual(
    st.conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['LoadBalancerReady', 'False', 'DomainConflict'],
      ['NetworkConfigured', 'True', undefined],
      ['Ready', 'False', 'DomainConflict'],
    ],
  );
});

test('a missing backend Service keeps the routes the KIngress had (Kourier), reported as pending', () => {
  const b = backend('gone');
  const ing = kingress('gone', { rules: [rule(`gone.${DOMAIN}`, b)] });
  const before = translate([...b.objects, ing]);
  assert.equal(before.routes.length, 1);
  const after = translate([ing], before);
  const i = after.ingresses[0]!;
  assert.equal(i.outcome.kind, 'pending');
  assert.deepEqual(after.routes, before.routes, 'routes stay');
  assert.ok(
    after.services.some((s) => s.name === 'serving-tests/gone'),
    'and so does the cluster',
  );
  assert.match(i.warnings.join(), /previous routes stay in force/);
  // Never served before: nothing to keep.
  assert.deepEqual(translate([ing]).routes, []);
});

test('a KIngress being deleted loses its routes at once and is handed to the finalizer', () => {
  const b = backend('del');
  const ing = kingress('del', { rules: [rule(`del.${DOMAIN}`, b)] });
  ing.metadata.deletionTimestamp = '2026-03-01T00:00:00Z';
  ing.metadata.finalizers = ['ingresses.networking.internal.knative.dev'];
  const t = translate([...b.objects, ing]);
  assert.deepEqual(t.routes, []);
  assert.equal(t.deleting.length, 1);
});

test('config-kourier: implemented keys shape the gateway config; unsupported ones and bad values are reported', () => {
  const { config, issues } = gatewayConfigFrom({
    kourier: {
      'enable-proxy-protocol': 'true',
      'stream-idle-timeout': '5m30s',
      'trusted-hops-count': '2',
      'use-remote-address': 'true',
      'cipher-suites': 'ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256',
      'listen-ip-addresses': '0.0.0.0,::',
      'disable-envoy-server-header': 'true',
      'cluster-cert-secret': 'internal-cert',
      'extauthz-host': 'authz.example:9000',
      'tracing-endpoint': 'http://otel:4318',
      'enable-service-access-logging': 'true',
      'service-access-log-template': '[%START_TIME%] "%REQ(:METHOD)% %REQ(:PATH)%" %RESPONSE_CODE%',
    },
    network: { 'system-internal-tls': 'enabled' },
    gatewayNamespace: 'kourier-system',
    envCertsSecret: { namespace: 'kourier-system', name: 'default-cert' },
  });
  assert.deepEqual(config, {
    cipherSuites: ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
    minimumTlsVersion: 'TLSv1_2',
    streamIdleTimeoutMs: 330_000,
    trustedHopsCount: 2,
    useRemoteAddress: true,
    enableProxyProtocol: true,
    disableEnvoyServerHeader: true,
    listenIpAddresses: ['0.0.0.0', '::'],
    defaultCertificate: 'kourier-system/default-cert',
    clusterCertificate: 'kourier-system/internal-cert',
    accessLog: { template: '[%START_TIME%] "%REQ(:METHOD)% %REQ(:PATH)%" %RESPONSE_CODE%' },
    systemInternalTls: true,
    tracing: { endpoint: 'http://otel:4318', host: 'otel', port: 4318, protocol: 'grpc', samplingRate: 1, serviceName: 'kourier-knative' },
    extAuthz: {
      host: 'authz.example',
      port: 9000,
      protocol: 'grpc',
      failureModeAllow: false,
      maxRequestBytes: 8192,
      timeoutMs: 2000,
      pathPrefix: '',
      packAsBytes: false,
    },
  });
  // Every implemented key reaches the listeners, and they stay valid Envoy config.
  const listeners = buildGatewayListeners([], config);
  for (const l of listeners) assertEnvoyValid(l);
  const hcm = (listeners.find((l) => l.name === 'listener_8080')!.value as any).filter_chains[0].filters[0].typed_config;
  assert.deepEqual(hcm.access_log, [
    {
      name: 'envoy.access_loggers.stdout',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
        log_format: { text_format_source: { inline_string: '[%START_TIME%] "%REQ(:METHOD)% %REQ(:PATH)%" %RESPONSE_CODE%' } },
      },
    },
  ]);
  assert.deepEqual(
    [hcm.stream_idle_timeout, hcm.xff_num_trusted_hops, hcm.use_remote_address, hcm.server_header_transformation],
    [{ seconds: 330, nanos: 0 }, 2, { value: true }, 'PASS_THROUGH'],
  );
  const l8080 = listeners.find((l) => l.name === 'listener_8080')!.value as any;
  assert.deepEqual(l8080.additional_addresses, [{ address: { socket_address: { protocol: 'TCP', address: '::', port_value: 8080 } } }]);
  assert.equal(l8080.listener_filters[0].name, 'envoy.filters.listener.proxy_protocol');
  const l8444 = listeners.find((l) => l.name === 'listener_8444')!.value as any;
  assert.deepEqual(l8444.filter_chains[0].transport_socket.typed_config.common_tls_context.tls_params.cipher_suites, config.cipherSuites);
  assert.deepEqual(
    issues.map((i) => `${i.configMap}/${i.key}`),
    [],
    'access logging, tracing, ext_authz and system-internal-tls are implemented',
  );
  // config-kourier certs-secret-namespace / certs-secret-name win over the CERTS_SECRET_* environment.
  const keys = gatewayConfigFrom({
    kourier: { 'certs-secret-namespace': 'ns1', 'certs-secret-name': 'from-config' },
    network: undefined,
    gatewayNamespace: 'kourier-system',
    envCertsSecret: { namespace: 'kourier-system', name: 'from-env' },
  });
  assert.equal(keys.config.defaultCertificate, 'ns1/from-config');
  // The minimum TLS version comes from Proxima's flag (--gateway-tls-minimum-version).
  const v13 = gatewayConfigFrom({ kourier: {}, network: undefined, gatewayNamespace: 'k', minimumTlsVersion: 'TLSv1_3' });
  assert.equal(v13.config.minimumTlsVersion, 'TLSv1_3');
  const bad = gatewayConfigFrom({
    kourier: { 'stream-idle-timeout': 'soon', 'use-remote-address': 'yes' },
    network: undefined,
    gatewayNamespace: 'k',
  });
  assert.equal(bad.config.streamIdleTimeoutMs, 0);
  assert.deepEqual(
    bad.issues.map((i) => i.key),
    ['stream-idle-timeout', 'use-remote-address'],
  );
  assert.deepEqual(['0', '1h', '1.5s', '300ms', '2h45m', 'x', '5'].map(parseGoDurationMs), [
    0,
    3_600_000,
    1500,
    300,
    9_900_000,
    undefined,
    undefined,
  ]);
});

test('serve flags: CERTS_SECRET_* (net-kourier env) feed the default certificate; PROXIMA_* and flags win; a Lease needs --replica-id', () => {
  const parse = (argv: string[], env: Record<string, string>) => serveOptionsFrom(parseOptions(SERVE_SPEC, argv, env)).kourier!;
  assert.deepEqual(parse(['--kubernetes'], { CERTS_SECRET_NAMESPACE: 'kourier-system', CERTS_SECRET_NAME: 'wildcard' }).envCertsSecret, {
    namespace: 'kourier-system',
    name: 'wildcard',
  });
  assert.deepEqual(
    parse(['--certs-secret-name=flag'], { CERTS_SECRET_NAMESPACE: 'a', CERTS_SECRET_NAME: 'env', PROXIMA_CERTS_SECRET_NAMESPACE: 'b' })
      .envCertsSecret,
    { namespace: 'b', name: 'flag' },
  );
  assert.equal(parse([], {}).envCertsSecret, undefined);
  const k = parse(['--leader-election-lease=proxima-system/lead', '--replica-id=p-1', '--readiness-probe'], {});
  assert.deepEqual(k.leaderElection, {
    lease: 'proxima-system/lead',
    identity: 'p-1',
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2000,
  });
  assert.deepEqual(k.readinessProbe?.ports, { external: 8090, externalTls: 9443, internal: 8081 });
  // Probing is the default with --kubernetes, as Kourier always probes; --no-readiness-probe turns it off.
  assert.deepEqual(parse(['--kubernetes'], {}).readinessProbe?.ports, { external: 8090, externalTls: 9443, internal: 8081 });
  assert.equal(parse(['--kubernetes', '--no-readiness-probe'], {}).readinessProbe, undefined);
  assert.equal(parse(['--kubernetes', '--readiness-probe=false'], {}).readinessProbe, undefined);
  assert.throws(() => parse(['--leader-election-lease=lead'], {}), /NAMESPACE\/NAME and needs --replica-id/);
});
