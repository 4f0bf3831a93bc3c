/**
 * Small shared shapes for the resource builders. Values are protobufjs `fromObject` plain objects
 * (snake_case names, Duration as {seconds, nanos}, wrappers as {value}, Any as {'@type', ...fields}).
 */

export const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const HCM_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const HTTP_PROTOCOL_OPTIONS_TYPE_URL = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
/** The key Envoy looks up upstream HTTP options under in `typed_extension_protocol_options`. */
export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Kourier's route configuration names (pkg/generator: external_services, internal_services). */
export const EXTERNAL_ROUTE_CONFIG = 'external_services';
export const INTERNAL_ROUTE_CONFIG = 'internal_services';
/** Kourier's ports (pkg/reconciler/ingress/config: HTTPPortExternal 8080, HTTPPortLocal 8081). */
export const EXTERNAL_HTTP_PORT = 8080;
export const INTERNAL_HTTP_PORT = 8081;
/** Kourier's HTTPS route configurations and ports (8443 external, 8444 cluster-local; probes 8090/9443). */
export const EXTERNAL_TLS_ROUTE_CONFIG = 'external_tls_services';
export const INTERNAL_TLS_ROUTE_CONFIG = 'internal_tls_services';
export const EXTERNAL_HTTPS_PORT = 8443;
export const INTERNAL_HTTPS_PORT = 8444;
export const PROBE_HTTP_PORT = 8090;
export const PROBE_HTTPS_PORT = 9443;
/** Kourier's status virtual host; its `/ready` answers once the gateway has config. */
export const INTERNAL_KOURIER_DOMAIN = 'internalkourier';

export type Plain = Record<string, unknown>;

export function duration(ms: number): Plain {
  const whole = Math.floor(ms / 1000);
  return { seconds: whole, nanos: Math.round((ms - whole * 1000) * 1e6) };
}

/** An xDS config source pointing back at the ADS stream the resource arrived on. */
export function adsConfigSource(initialFetchTimeoutMs?: number): Plain {
  return {
    ads: {},
    resource_api_version: 'V3',
    ...(initialFetchTimeoutMs !== undefined ? { initial_fetch_timeout: duration(initialFetchTimeoutMs) } : {}),
  };
}

export function routerFilter(): Plain {
  return { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE_URL } };
}

/** Knative sets (overwrites) its headers rather than appending (knative/serving#6366). */
export function headersToAdd(headers: Readonly<Record<string, string>>): Plain[] {
  return Object.keys(headers)
    .sort()
    .map((key) => ({ header: { key, value: headers[key]! }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }));
}

export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
