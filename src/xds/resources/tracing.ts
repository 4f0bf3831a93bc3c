/**
 * Gateway tracing as net-kourier builds it (pkg/reconciler/ingress/config/tracing.go Cluster,
 * TracingConfig; pkg/envoy/api/http_connection_manager.go): every HttpConnectionManager gets
 * `generate_request_id` and an `envoy.tracers.opentelemetry` provider exporting to the
 * `otel-collector` cluster (gRPC with a 250 ms timeout, or OTLP/HTTP to the endpoint URI with 5 s),
 * sampling `rate × 100` percent; the cluster is STRICT_DNS at the endpoint's host and port, HTTP/2
 * for gRPC. Pure.
 */
import type { GatewayTracing } from '../../model/types.js';
import { duration, HTTP_PROTOCOL_OPTIONS_KEY, HTTP_PROTOCOL_OPTIONS_TYPE_URL, type Plain } from './common.js';
import { TypeUrl, type ProtoResource } from './types.js';

export const OTEL_COLLECTOR_CLUSTER = 'otel-collector';
export const OPENTELEMETRY_CONFIG_TYPE_URL = 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig';

/** The HttpConnectionManager fields tracing adds. */
export function connectionManagerTracing(t: GatewayTracing): Plain {
  const exporter =
    t.protocol === 'http/protobuf'
      ? { http_service: { http_uri: { uri: t.endpoint, cluster: OTEL_COLLECTOR_CLUSTER, timeout: duration(5000) } } }
      : { grpc_service: { envoy_grpc: { cluster_name: OTEL_COLLECTOR_CLUSTER }, timeout: duration(250) } };
  return {
    generate_request_id: { value: true },
    tracing: {
      provider: {
        name: 'envoy.tracers.opentelemetry',
        typed_config: { '@type': OPENTELEMETRY_CONFIG_TYPE_URL, ...exporter, service_name: t.serviceName },
      },
      overall_sampling: { value: t.samplingRate * 100 },
    },
  };
}

/** The `otel-collector` cluster. */
export function otelCollectorCluster(t: GatewayTracing): ProtoResource {
  const value: Plain = {
    name: OTEL_COLLECTOR_CLUSTER,
    type: 'STRICT_DNS',
    load_assignment: {
      cluster_name: OTEL_COLLECTOR_CLUSTER,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { protocol: 'TCP', address: t.host, port_value: t.port, ipv4_compat: true } } } },
          ],
        },
      ],
    },
    ...(t.protocol === 'grpc'
      ? {
          typed_extension_protocol_options: {
            [HTTP_PROTOCOL_OPTIONS_KEY]: { '@type': HTTP_PROTOCOL_OPTIONS_TYPE_URL, explicit_http_config: { http2_protocol_options: {} } },
          },
        }
      : {}),
  };
  return { name: OTEL_COLLECTOR_CLUSTER, typeUrl: TypeUrl.Cluster, value };
}
