import type { HttpRoute } from '../../model/types.js';
import type { ProtoResource } from './types.js';
import { TypeUrl } from './types.js';
import { grpcRouteConfigName } from './routes.js';
import {
  adsConfigSource,
  duration,
  EXTERNAL_HTTP_PORT,
  EXTERNAL_ROUTE_CONFIG,
  HCM_TYPE_URL,
  INTERNAL_HTTP_PORT,
  INTERNAL_ROUTE_CONFIG,
  routerFilter,
  type Plain,
} from './common.js';

/** Kourier waits 10 s for a listener's RDS before serving without it. */
const RDS_INITIAL_FETCH_TIMEOUT_MS = 10_000;

/**
 * Ports a gRPC client may put in its dial target (`xds:///host:port`): grpc-js-xds and C-core ask
 * LDS for the target's path verbatim, port included. Knative services are reached on 80.
 */
export const GRPC_TARGET_PORTS: readonly number[] = [80];

/** net-kourier's NewHTTPConnectionManager with its default config (no ext_authz, no tracing). */
function gatewayConnectionManager(routeConfigName: string): Plain {
  return {
    '@type': HCM_TYPE_URL,
    codec_type: 'AUTO',
    stat_prefix: 'ingress_http',
    rds: { config_source: adsConfigSource(RDS_INITIAL_FETCH_TIMEOUT_MS), route_config_name: routeConfigName },
    http_filters: [routerFilter()],
    // Kourier defaults: stream-idle-timeout 0s (disabled), trusted hops 0, use_remote_address false.
    stream_idle_timeout: duration(0),
    xff_num_trusted_hops: 0,
    use_remote_address: { value: false },
    upgrade_configs: [{ upgrade_type: 'websocket' }],
  };
}

function gatewayListener(port: number, routeConfigName: string): ProtoResource {
  const name = `listener_${port}`;
  return {
    name,
    typeUrl: TypeUrl.Listener,
    value: {
      name,
      address: { socket_address: { protocol: 'TCP', address: '0.0.0.0', port_value: port } },
      filter_chains: [
        { filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: gatewayConnectionManager(routeConfigName) }] },
      ],
    },
  };
}

/** Kourier's plain-HTTP listeners: external 8080 → external_services, internal 8081 → internal_services. */
export function buildGatewayListeners(): ProtoResource[] {
  return [gatewayListener(EXTERNAL_HTTP_PORT, EXTERNAL_ROUTE_CONFIG), gatewayListener(INTERNAL_HTTP_PORT, INTERNAL_ROUTE_CONFIG)];
}

/**
 * gRPC proxyless API listener for one host. Both clients require the HCM's last (and only last)
 * HTTP filter to be the Router, and an RDS config source of `ads` or `self`.
 */
export function buildApiListener(listenerName: string, host: string): ProtoResource {
  return {
    name: listenerName,
    typeUrl: TypeUrl.Listener,
    value: {
      name: listenerName,
      api_listener: {
        api_listener: {
          '@type': HCM_TYPE_URL,
          stat_prefix: 'grpc',
          rds: { config_source: adsConfigSource(), route_config_name: grpcRouteConfigName(host) },
          http_filters: [routerFilter()],
        },
      },
    },
  };
}

/** One API listener per host and per `host:port` for GRPC_TARGET_PORTS, sorted by name. */
export function buildApiListeners(routes: readonly HttpRoute[], ports: readonly number[] = GRPC_TARGET_PORTS): ProtoResource[] {
  const hosts = new Set<string>();
  for (const r of routes) for (const h of r.hosts) hosts.add(h);
  const out: ProtoResource[] = [];
  for (const host of [...hosts].sort()) {
    out.push(buildApiListener(host, host));
    for (const port of ports) out.push(buildApiListener(`${host}:${port}`, host));
  }
  return out;
}
