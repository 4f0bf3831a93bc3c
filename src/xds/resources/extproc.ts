import { isIP } from 'node:net';
import { HEADER_DESTINATION, HEADER_FALLBACK, HEADER_NODE, LB_METADATA_NAMESPACE } from '../../model/picking-headers.js';
import type { ProtoResource } from './types.js';
import { TypeUrl } from './types.js';
import { duration, HCM_TYPE_URL, HTTP_PROTOCOL_OPTIONS_KEY, HTTP_PROTOCOL_OPTIONS_TYPE_URL, type Plain } from './common.js';

/**
 * The ext_proc picking variant of the gateway resources, for Envoy gateways that opt in through
 * their xDS Node metadata. Mirrors envoy/gateway-extproc.yaml; the plain resources are transformed
 * (never rebuilt) so both variants stay identical apart from the picking pieces.
 */

/** Node metadata key a gateway sets (string "true" or bool true) to receive the ext_proc variant. */
export const EXTPROC_OPT_IN_KEY = 'PROXIMA_EXTPROC';
export const EXTPROC_CLUSTER = 'proxima_extproc';
export const ORIGINAL_DST_CLUSTER = 'proxima_original_dst';
/** Name of the route every virtual host gets first: taken when ext_proc picked a destination. */
export const PICKED_ROUTE = 'proxima_picked';
export const EXTPROC_FILTER_NAME = 'envoy.filters.http.ext_proc';
export const DEFAULT_EXTPROC_ADDRESS = 'proxima-extproc.proxima-system.svc:18001';

export const EXT_PROC_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor';
export const HEADER_MUTATION_TYPE_URL = 'type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation';

/**
 * A decision that takes longer than this costs the request more than picking can save (a pick
 * saves a trip or a queue of a few tens of ms): Envoy then follows the EDS weights
 * (failure_mode_allow). Envoy's default is 200 ms; in the demo the control plane's event loop,
 * busy with other work, answered 1 % of decisions after 140-370 ms.
 */
export const MESSAGE_TIMEOUT_MS = 25;
const GRPC_TIMEOUT_MS = 250;
const EXTPROC_CONNECT_TIMEOUT_MS = 250;
const ORIGINAL_DST_CONNECT_TIMEOUT_MS = 1000;
const ORIGINAL_DST_CLEANUP_MS = 60_000;

export interface ExtprocAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port` or `[v6]:port` → address; throws with the offending text. */
export function parseExtprocAddress(text: string): ExtprocAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new Error(`ext_proc address "${text}" is not host:port (port 1-65535)`);
  return { host: m[1] ?? m[2]!, port };
}

/**
 * Whether an xDS Node's metadata opts the gateway in. Accepts a decoded Struct
 * (`{fields: {K: {stringValue|boolValue}}}`: protobufjs ships google.protobuf.Value with camelCase
 * names, keepCase or not; snake_case accepted too) and a plain JSON object (`{K: "true" | true}`).
 */
export function extprocOptedIn(metadata: unknown): boolean {
  if (!metadata || typeof metadata !== 'object') return false;
  const m = metadata as Record<string, unknown>;
  const fields = m['fields'];
  const v: unknown =
    fields && typeof fields === 'object' && EXTPROC_OPT_IN_KEY in fields
      ? (fields as Record<string, unknown>)[EXTPROC_OPT_IN_KEY]
      : m[EXTPROC_OPT_IN_KEY];
  if (v === true) return true;
  if (typeof v === 'string') return /^true$/i.test(v.trim());
  if (v && typeof v === 'object') {
    const value = v as Record<string, unknown>;
    if (value['bool_value'] === true || value['boolValue'] === true) return true;
    const s = value['string_value'] ?? value['stringValue'];
    return typeof s === 'string' && /^true$/i.test(s.trim());
  }
  return false;
}

/** Envoy substitutes `%...%` in header values; node names are DNS labels, but escape anyway. */
function literalHeaderValue(s: string): string {
  return s.replace(/%/g, '%%');
}

export function earlyHeaderMutation(gatewayNode: string): Plain {
  return {
    name: 'envoy.http.early_header_mutation.header_mutation',
    typed_config: {
      '@type': HEADER_MUTATION_TYPE_URL,
      mutations: [
        { remove: HEADER_DESTINATION },
        { remove: HEADER_FALLBACK },
        { remove: HEADER_NODE },
        {
          append: {
            header: { key: HEADER_NODE, value: literalHeaderValue(gatewayNode) },
            append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
          },
        },
      ],
    },
  };
}

/** The ext_proc filter; the stream's gRPC metadata also names the node (the server's fallback). */
export function extprocFilter(gatewayNode: string): Plain {
  return {
    name: EXTPROC_FILTER_NAME,
    typed_config: {
      '@type': EXT_PROC_TYPE_URL,
      stat_prefix: 'proxima',
      grpc_service: {
        envoy_grpc: { cluster_name: EXTPROC_CLUSTER },
        timeout: duration(GRPC_TIMEOUT_MS),
        initial_metadata: [{ key: HEADER_NODE, value: gatewayNode }],
      },
      // Proxima down or slow: the request continues unmodified and EDS weights decide.
      failure_mode_allow: true,
      message_timeout: duration(MESSAGE_TIMEOUT_MS),
      processing_mode: {
        // The pick needs the request headers only; the slot is freed when Envoy closes the stream at
        // the end of the request, so the response is not held up by a second round trip.
        request_header_mode: 'SEND',
        response_header_mode: 'SKIP',
        request_body_mode: 'NONE',
        response_body_mode: 'NONE',
        request_trailer_mode: 'SKIP',
        response_trailer_mode: 'SKIP',
      },
      // Envoy drops the processor's dynamic metadata unless its namespace is listed.
      metadata_options: { receiving_namespaces: { untyped: [LB_METADATA_NAMESPACE] } },
    },
  };
}

function isHcm(filter: unknown): filter is { typed_config: Plain } {
  const tc = (filter as { typed_config?: Plain } | null)?.typed_config;
  return !!tc && tc['@type'] === HCM_TYPE_URL;
}

/**
 * A gateway listener with ext_proc picking: every HttpConnectionManager strips client-sent
 * x-proxima-* headers and sets x-proxima-node to `gatewayNode` before routing, and runs ext_proc
 * right before the router. Same name as the plain listener (Envoy identifies listeners by name).
 */
export function withExtprocListener(listener: ProtoResource, gatewayNode: string): ProtoResource {
  const value = structuredClone(listener.value) as Plain;
  for (const chain of (value['filter_chains'] as Plain[] | undefined) ?? []) {
    for (const filter of (chain['filters'] as unknown[] | undefined) ?? []) {
      if (!isHcm(filter)) continue;
      const hcm = filter.typed_config;
      hcm['early_header_mutation_extensions'] = [earlyHeaderMutation(gatewayNode)];
      const filters = [...((hcm['http_filters'] as Plain[] | undefined) ?? [])];
      // The router is last; ext_proc goes right before it.
      filters.splice(Math.max(0, filters.length - 1), 0, extprocFilter(gatewayNode));
      hcm['http_filters'] = filters;
    }
  }
  return { name: listener.name, typeUrl: TypeUrl.Listener, value };
}

export function pickedRoute(): Plain {
  return {
    name: PICKED_ROUTE,
    match: { prefix: '/', headers: [{ name: HEADER_DESTINATION, present_match: true }] },
    route: {
      cluster: ORIGINAL_DST_CLUSTER,
      timeout: duration(0),
      upgrade_configs: [{ upgrade_type: 'websocket', enabled: { value: true } }],
    },
  };
}

/** A route configuration whose every virtual host first routes picked requests to the original-dst cluster. */
export function withPickedRoute(routeConfig: ProtoResource): ProtoResource {
  const value = structuredClone(routeConfig.value) as Plain;
  for (const vh of (value['virtual_hosts'] as Plain[] | undefined) ?? []) {
    vh['routes'] = [pickedRoute(), ...((vh['routes'] as Plain[] | undefined) ?? [])];
  }
  return { name: routeConfig.name, typeUrl: TypeUrl.RouteConfiguration, value };
}

/** `proxima_extproc` (gRPC, HTTP/2) at `address`, and `proxima_original_dst` (destination from the header). */
export function buildExtprocClusters(address: ExtprocAddress): ProtoResource[] {
  const extproc: Plain = {
    name: EXTPROC_CLUSTER,
    type: isIP(address.host) ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: duration(EXTPROC_CONNECT_TIMEOUT_MS),
    typed_extension_protocol_options: {
      [HTTP_PROTOCOL_OPTIONS_KEY]: {
        '@type': HTTP_PROTOCOL_OPTIONS_TYPE_URL,
        explicit_http_config: {
          http2_protocol_options: { connection_keepalive: { interval: duration(30_000), timeout: duration(5_000) } },
        },
      },
    },
    load_assignment: {
      cluster_name: EXTPROC_CLUSTER,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: address.host, port_value: address.port } } } }] }],
    },
  };
  const originalDst: Plain = {
    name: ORIGINAL_DST_CLUSTER,
    type: 'ORIGINAL_DST',
    lb_policy: 'CLUSTER_PROVIDED',
    connect_timeout: duration(ORIGINAL_DST_CONNECT_TIMEOUT_MS),
    cleanup_interval: duration(ORIGINAL_DST_CLEANUP_MS),
    original_dst_lb_config: { use_http_header: true, http_header_name: HEADER_DESTINATION },
    // h2c and gRPC services need HTTP/2 upstream; HTTP/1 requests stay HTTP/1.
    typed_extension_protocol_options: {
      [HTTP_PROTOCOL_OPTIONS_KEY]: {
        '@type': HTTP_PROTOCOL_OPTIONS_TYPE_URL,
        use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
      },
    },
  };
  return [
    { name: EXTPROC_CLUSTER, typeUrl: TypeUrl.Cluster, value: extproc },
    { name: ORIGINAL_DST_CLUSTER, typeUrl: TypeUrl.Cluster, value: originalDst },
  ];
}

export const EXT_PROC_PER_ROUTE_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute';

/** The services a route sends to (`cluster` or `weighted_clusters`); none for redirects and direct responses. */
function routeServices(route: Plain): string[] {
  const action = route['route'] as Plain | undefined;
  if (!action) return [];
  if (typeof action['cluster'] === 'string') return [action['cluster']];
  const weighted = (action['weighted_clusters'] as { clusters?: Array<{ name?: unknown }> } | undefined)?.clusters ?? [];
  return weighted.flatMap((c) => (typeof c.name === 'string' ? [c.name] : []));
}

/**
 * A picked route configuration in which every route whose services all skip picking (`skipped`)
 * disables the ext_proc filter (ExtProcPerRoute `disabled`, the most specific per-filter config
 * wins: envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto): Envoy then routes those requests
 * by the EDS weights without asking. `routeConfig` is not modified; the same object comes back when
 * nothing is skipped.
 */
export function withPickingSkipped(routeConfig: ProtoResource, skipped: (service: string) => boolean): ProtoResource {
  const source = routeConfig.value as Plain;
  const hosts = (source['virtual_hosts'] as Plain[] | undefined) ?? [];
  const skips = (r: Plain): boolean => {
    const services = r['name'] === PICKED_ROUTE ? [] : routeServices(r);
    return services.length > 0 && services.every(skipped);
  };
  if (!hosts.some((vh) => ((vh['routes'] as Plain[] | undefined) ?? []).some(skips))) return routeConfig;
  const value = structuredClone(source);
  for (const vh of (value['virtual_hosts'] as Plain[] | undefined) ?? []) {
    for (const r of (vh['routes'] as Plain[] | undefined) ?? []) {
      if (!skips(r)) continue;
      r['typed_per_filter_config'] = {
        ...((r['typed_per_filter_config'] as Plain | undefined) ?? {}),
        [EXTPROC_FILTER_NAME]: { '@type': EXT_PROC_PER_ROUTE_TYPE_URL, disabled: true },
      };
    }
  }
  return { name: routeConfig.name, typeUrl: TypeUrl.RouteConfiguration, value };
}
