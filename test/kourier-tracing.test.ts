/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks Envoy resources as plain objects */
/**
 * config-kourier `tracing-*` as net-kourier builds it (pkg/reconciler/ingress/config/tracing.go
 * Cluster and TracingConfig, kourier.go asTracing; pkg/envoy/api/http_connection_manager.go): the
 * OpenTelemetry tracer on every gateway connection manager and the `otel-collector` cluster, field
 * by field. No Envoy runs here: each resource is checked against Envoy's protos (strict decode,
 * unknown fields refused, decode → re-encode byte-exact).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayConfigFrom } from '../src/sources/kubernetes/gateway-config.js';
import { buildGatewayListeners } from '../src/xds/resources/listeners.js';
import { buildGatewayConfigClusters } from '../src/xds/resources/gateway-clusters.js';
import { buildSnapshot } from '../src/xds/snapshot/build.js';
import { replica } from '../src/xds/snapshot/testing.js';
import { TypeUrl } from '../src/xds/resources/types.js';
import { assertEnvoyValid } from './kourier/conformance-harness.js';

const config = (kourier: Record<string, string>) => gatewayConfigFrom({ kourier, network: undefined, gatewayNamespace: 'kourier-system' });

function hcmOf(listeners: ReturnType<typeof buildGatewayListeners>, name = 'listener_8080'): any {
  return (listeners.find((l) => l.name === name)!.value as any).filter_chains[0].filters[0].typed_config;
}

test('tracing (grpc, the default): OpenTelemetry on every connection manager and the otel-collector cluster (HTTP/2), as Kourier', () => {
  const { config: gw, issues } = config({
    'tracing-endpoint': 'http://otel-collector.observability:4317',
    'tracing-sampling-rate': '0.25',
  });
  assert.deepEqual(issues, []);
  assert.deepEqual(gw.tracing, {
    endpoint: 'http://otel-collector.observability:4317',
    host: 'otel-collector.observability',
    port: 4317,
    protocol: 'grpc',
    samplingRate: 0.25,
    serviceName: 'kourier-knative',
  });
  const listeners = buildGatewayListeners([], gw);
  for (const l of listeners) {
    assertEnvoyValid(l);
    const hcm = (l.value as any).filter_chains[0].filters[0].typed_config;
    assert.deepEqual(hcm.generate_request_id, { value: true }, l.name);
    assert.equal(hcm.tracing.provider.name, 'envoy.tracers.opentelemetry', l.name);
  }
  assert.deepEqual(hcmOf(listeners).tracing, {
    provider: {
      name: 'envoy.tracers.opentelemetry',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
        grpc_service: { envoy_grpc: { cluster_name: 'otel-collector' }, timeout: { seconds: 0, nanos: 250_000_000 } },
        service_name: 'kourier-knative',
      },
    },
    overall_sampling: { value: 25 },
  });
  const [cluster, ...more] = buildGatewayConfigClusters(gw);
  assert.equal(more.length, 0);
  assertEnvoyValid(cluster!);
  assert.deepEqual(cluster!.value, {
    name: 'otel-collector',
    type: 'STRICT_DNS',
    load_assignment: {
      cluster_name: 'otel-collector',
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: {
                address: {
                  socket_address: { protocol: 'TCP', address: 'otel-collector.observability', port_value: 4317, ipv4_compat: true },
                },
              },
            },
          ],
        },
      ],
    },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  });
});

test('tracing (http/protobuf): the OTLP/HTTP URI with a 5 s timeout, a plain HTTP/1 cluster; the snapshot serves the cluster and drops it when tracing goes off', (t) => {
  const { config: gw } = config({
    'tracing-endpoint': 'http://collector:4318/v1/traces',
    'tracing-protocol': 'http/protobuf',
    'tracing-service-name': 'edge-gateway',
  });
  const hcm = hcmOf(buildGatewayListeners([], gw));
  assert.deepEqual(hcm.tracing.provider.typed_config, {
    '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
    http_service: { http_uri: { uri: 'http://collector:4318/v1/traces', cluster: 'otel-collector', timeout: { seconds: 5, nanos: 0 } } },
    service_name: 'edge-gateway',
  });
  assert.deepEqual(hcm.tracing.overall_sampling, { value: 100 });
  const cluster = buildGatewayConfigClusters(gw)[0]!;
  assertEnvoyValid(cluster);
  assert.equal((cluster.value as any).typed_extension_protocol_options, undefined);

  const r = replica();
  t.after(() => r.engine.stop());
  r.store.setGatewayConfig(gw);
  const on = buildSnapshot(r.input);
  assert.ok(on.shared.get(TypeUrl.Cluster)!.byName.has('otel-collector'));
  assert.deepEqual(on.errors, []);
  r.store.setGatewayConfig(config({}).config);
  const off = buildSnapshot(r.input, on);
  assert.ok(!off.shared.get(TypeUrl.Cluster)!.byName.has('otel-collector'), 'gone with the config');
  assert.equal(hcmOf(buildGatewayListeners([], config({}).config)).tracing, undefined);
});

test('tracing: bad values are reported and leave tracing off (Kourier rejects the ConfigMap)', () => {
  const cases: [Record<string, string>, string][] = [
    [{ 'tracing-endpoint': 'otel-collector' }, 'tracing-endpoint'],
    [{ 'tracing-endpoint': 'http://otel-collector' }, 'tracing-endpoint'],
    [{ 'tracing-endpoint': 'http://c:4317', 'tracing-protocol': 'zipkin' }, 'tracing-protocol'],
    [{ 'tracing-endpoint': 'http://c:4317', 'tracing-sampling-rate': '1.5' }, 'tracing-sampling-rate'],
    [{ 'tracing-endpoint': 'http://c:4317', 'tracing-sampling-rate': 'often' }, 'tracing-sampling-rate'],
  ];
  for (const [data, key] of cases) {
    const { config: gw, issues } = config(data);
    assert.equal(gw.tracing, undefined, JSON.stringify(data));
    assert.deepEqual(
      issues.map((i) => i.key),
      [key],
      JSON.stringify(data),
    );
    assert.match(issues[0]!.message, /tracing stays off/);
  }
  assert.deepEqual(config({ 'tracing-endpoint': '' }).issues, [], 'empty endpoint: off, nothing to report');
});
