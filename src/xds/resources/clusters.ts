import type { Service } from '../../model/types.js';
import type { BuildOptions, ProtoResource } from './types.js';
import { TypeUrl } from './types.js';
import { adsConfigSource, duration, HTTP_PROTOCOL_OPTIONS_KEY, HTTP_PROTOCOL_OPTIONS_TYPE_URL, type Plain } from './common.js';
import { upstreamTlsTransportSocket } from './upstream-tls.js';

/**
 * One EDS cluster per service, named `namespace/name` (Kourier's cluster naming), endpoints via ADS.
 * - `common_lb_config.locality_weighted_lb_config` makes Envoy honour the EDS locality weights
 *   (without it Envoy ignores `load_balancing_weight`); gRPC clients always honour them and ignore
 *   this field.
 * - lb_policy stays ROUND_ROBIN (the default): grpc-js-xds and C-core map it to xds_wrr_locality
 *   and reject most other policies.
 * - `lrs_server: {self: {}}` asks the gateway to report load on the ADS server itself; gRPC accepts
 *   only `self` here.
 * - `transport_socket` (UpstreamTlsContext, upstream-tls.ts) when the service carries `upstreamTls`
 *   (Knative's `system-internal-tls`).
 */
export function buildCluster(service: Service, opts: BuildOptions): ProtoResource {
  if (service.externalName) return externalNameCluster(service, service.externalName, opts);
  const value: Plain = {
    name: service.name,
    type: 'EDS',
    eds_cluster_config: { eds_config: adsConfigSource(), service_name: service.name },
    connect_timeout: duration(opts.connectTimeoutMs),
    common_lb_config: { locality_weighted_lb_config: {} },
    ...(opts.loadReporting ? { lrs_server: { self: {} } } : {}),
    ...protocolAndTls(service),
  };
  return { name: service.name, typeUrl: TypeUrl.Cluster, value };
}

function protocolAndTls(service: Service): Plain {
  const http2 = service.protocol === 'h2c' || service.protocol === 'grpc';
  return {
    ...(http2 ? http2Options() : {}),
    ...(service.upstreamTls ? { transport_socket: upstreamTlsTransportSocket(service.upstreamTls, http2) } : {}),
  };
}

/**
 * An ExternalName Service as net-kourier builds it (pkg/generator/ingress_translator.go,
 * pkg/envoy/api/cluster.go): LOGICAL_DNS with the one DNS name at the Service port, no EDS.
 */
function externalNameCluster(service: Service, target: { host: string; port: number }, opts: BuildOptions): ProtoResource {
  const value: Plain = {
    name: service.name,
    type: 'LOGICAL_DNS',
    connect_timeout: duration(opts.connectTimeoutMs),
    load_assignment: {
      cluster_name: service.name,
      endpoints: [
        {
          lb_endpoints: [{ endpoint: { address: { socket_address: { protocol: 'TCP', address: target.host, port_value: target.port } } } }],
        },
      ],
    },
    ...protocolAndTls(service),
  };
  return { name: service.name, typeUrl: TypeUrl.Cluster, value };
}

function http2Options(): Plain {
  return {
    typed_extension_protocol_options: {
      [HTTP_PROTOCOL_OPTIONS_KEY]: { '@type': HTTP_PROTOCOL_OPTIONS_TYPE_URL, explicit_http_config: { http2_protocol_options: {} } },
    },
  };
}

/** Clusters for every service, sorted by name. */
export function buildClusters(services: readonly Service[], opts: BuildOptions): ProtoResource[] {
  return [...services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((s) => buildCluster(s, opts));
}
