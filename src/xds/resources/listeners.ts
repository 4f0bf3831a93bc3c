import { DEFAULT_GATEWAY_CONFIG, type GatewayConfig, type HttpRoute } from '../../model/types.js';
import { hasExternalTls, listenerFilters, sniMatchesOf, tlsTransportSocket, type SniMatch } from './tls.js';
import type { ProtoResource } from './types.js';
import { TypeUrl } from './types.js';
import { grpcRouteConfigName } from './routes.js';
import { connectionManagerTracing } from './tracing.js';
import { extAuthzHttpFilter } from './extauthz.js';
import {
  adsConfigSource,
  duration,
  EXTERNAL_HTTP_PORT,
  EXTERNAL_HTTPS_PORT,
  EXTERNAL_ROUTE_CONFIG,
  EXTERNAL_TLS_ROUTE_CONFIG,
  HCM_TYPE_URL,
  INTERNAL_HTTP_PORT,
  INTERNAL_HTTPS_PORT,
  INTERNAL_ROUTE_CONFIG,
  INTERNAL_TLS_ROUTE_CONFIG,
  PROBE_HTTP_PORT,
  PROBE_HTTPS_PORT,
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

/** net-kourier's NewHTTPConnectionManager (pkg/envoy/api/http_connection_manager.go) with config-kourier applied. */
function gatewayConnectionManager(routeConfigName: string, gateway: GatewayConfig): Plain {
  return {
    '@type': HCM_TYPE_URL,
    codec_type: 'AUTO',
    stat_prefix: 'ingress_http',
    rds: { config_source: adsConfigSource(RDS_INITIAL_FETCH_TIMEOUT_MS), route_config_name: routeConfigName },
    // Kourier: ext_authz first, the router last (ext_proc variants insert before the router).
    http_filters: [...(gateway.extAuthz ? [extAuthzHttpFilter(gateway.extAuthz)] : []), routerFilter()],
    // config-kourier: stream-idle-timeout (default 0s, disabled), trusted-hops-count, use-remote-address.
    stream_idle_timeout: duration(gateway.streamIdleTimeoutMs),
    xff_num_trusted_hops: gateway.trustedHopsCount,
    use_remote_address: { value: gateway.useRemoteAddress },
    ...(gateway.disableEnvoyServerHeader ? { server_header_transformation: 'PASS_THROUGH' } : {}),
    ...(gateway.accessLog ? { access_log: [stdoutAccessLog(gateway.accessLog.template)] } : {}),
    ...(gateway.tracing ? connectionManagerTracing(gateway.tracing) : {}),
    upgrade_configs: [{ upgrade_type: 'websocket' }],
  };
}

/** Kourier's access log: Envoy's stdout logger, with `service-access-log-template` as its text format. */
function stdoutAccessLog(template: string | undefined): Plain {
  return {
    name: 'envoy.access_loggers.stdout',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
      ...(template ? { log_format: { text_format_source: { inline_string: template } } } : {}),
    },
  };
}

function hcmFilter(routeConfigName: string, gateway: GatewayConfig): Plain {
  return { name: 'envoy.filters.network.http_connection_manager', typed_config: gatewayConnectionManager(routeConfigName, gateway) };
}

/** `listen-ip-addresses`: the first address binds the listener, the others are additional addresses. */
function addresses(port: number, gateway: GatewayConfig): Plain {
  const [first, ...rest] = gateway.listenIpAddresses.length ? gateway.listenIpAddresses : ['0.0.0.0'];
  const socket = (address: string): Plain => ({ socket_address: { protocol: 'TCP', address, port_value: port } });
  return { address: socket(first!), ...(rest.length ? { additional_addresses: rest.map((a) => ({ address: socket(a) })) } : {}) };
}

interface ListenerSpec {
  readonly port: number;
  readonly filterChains: readonly Plain[];
  readonly tls: boolean;
  readonly proxyProtocol: boolean;
}

function gatewayListener(spec: ListenerSpec, gateway: GatewayConfig): ProtoResource {
  const name = `listener_${spec.port}`;
  const filters = listenerFilters({ tls: spec.tls, proxyProtocol: spec.proxyProtocol });
  return {
    name,
    typeUrl: TypeUrl.Listener,
    value: {
      name,
      ...addresses(spec.port, gateway),
      ...(filters.length ? { listener_filters: filters } : {}),
      filter_chains: [...spec.filterChains],
    },
  };
}

function plainListener(port: number, routeConfigName: string, gateway: GatewayConfig, proxyProtocol: boolean): ProtoResource {
  return gatewayListener({ port, tls: false, proxyProtocol, filterChains: [{ filters: [hcmFilter(routeConfigName, gateway)] }] }, gateway);
}

/** SNI chains, one per match, then the default certificate (when set) as the chain for every other name. */
function sniChains(sni: readonly SniMatch[], fallbackSecret: string | undefined, routeConfigName: string, gateway: GatewayConfig): Plain[] {
  // A connection manager object per chain: variants (ext_proc) edit chains one by one.
  return [
    ...sni.map((m) => ({
      filter_chain_match: { server_names: [...m.hosts] },
      filters: [hcmFilter(routeConfigName, gateway)],
      transport_socket: tlsTransportSocket(m.secret, gateway),
    })),
    ...(fallbackSecret
      ? [{ filters: [hcmFilter(routeConfigName, gateway)], transport_socket: tlsTransportSocket(fallbackSecret, gateway) }]
      : []),
  ];
}

/**
 * Kourier's gateway listeners (pkg/generator/caches.go generateListenersAndRouteConfigs):
 * 8080 → external_services and 8081 → internal_services always, 8090 (probe) → external_services;
 * 8443 → external_tls_services with one SNI chain per `spec.tls` entry (plus the default
 * certificate as fallback) and 9443 (its probe twin, never with proxy protocol) when there is any
 * TLS; 8444 → internal_tls_services with `cluster-cert-secret`. Sorted by port.
 */
export function buildGatewayListeners(routes: readonly HttpRoute[] = [], gateway: GatewayConfig = DEFAULT_GATEWAY_CONFIG): ProtoResource[] {
  const proxy = gateway.enableProxyProtocol;
  const out = [
    plainListener(EXTERNAL_HTTP_PORT, EXTERNAL_ROUTE_CONFIG, gateway, proxy),
    plainListener(INTERNAL_HTTP_PORT, INTERNAL_ROUTE_CONFIG, gateway, false),
    plainListener(PROBE_HTTP_PORT, EXTERNAL_ROUTE_CONFIG, gateway, false),
  ];
  const sni = sniMatchesOf(routes);
  if (hasExternalTls(routes, gateway)) {
    const chains = sniChains(sni, gateway.defaultCertificate, EXTERNAL_TLS_ROUTE_CONFIG, gateway);
    out.push(gatewayListener({ port: EXTERNAL_HTTPS_PORT, tls: true, proxyProtocol: proxy, filterChains: chains }, gateway));
    out.push(gatewayListener({ port: PROBE_HTTPS_PORT, tls: true, proxyProtocol: false, filterChains: chains }, gateway));
  }
  if (gateway.clusterCertificate) {
    const chains = sniChains([], gateway.clusterCertificate, INTERNAL_TLS_ROUTE_CONFIG, gateway);
    out.push(gatewayListener({ port: INTERNAL_HTTPS_PORT, tls: true, proxyProtocol: false, filterChains: chains }, gateway));
  }
  return out.sort((a, b) => listenerPort(a) - listenerPort(b));
}

function listenerPort(l: ProtoResource): number {
  return Number(l.name.slice('listener_'.length));
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
