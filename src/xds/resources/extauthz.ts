/**
 * External authorization as net-kourier builds it (pkg/reconciler/ingress/config/ext_authz.go
 * externalAuthzFilter / externalAuthzCluster, pkg/envoy/api/virtual_host.go
 * NewVirtualHostWithExtAuthz, route.go NewRouteExtAuthzDisabled, pkg/generator/status_vhost.go):
 * - the `envoy.filters.http.ext_authz` filter before the router on every connection manager: V3
 *   transport, the request body buffered up to `max_request_bytes` (partial allowed), gRPC
 *   (`envoy_grpc` to cluster `extAuthz`, initial metadata `client: kourier`) or HTTP(S)
 *   (`server_uri` `<protocol>://host:port` via `extAuthz`, `path_prefix`, header `client: kourier`);
 * - the STRICT_DNS `extAuthz` cluster (5 s connect timeout; HTTP/2 for gRPC, HTTP/1 otherwise);
 * - per virtual host, check settings with context extensions `client: kourier`, `visibility` and
 *   the KIngress labels; ACME HTTP-01 paths and Kourier's status host skip the check.
 * Pure.
 */
import type { GatewayExtAuthz } from '../../model/types.js';
import { duration, HTTP_PROTOCOL_OPTIONS_KEY, HTTP_PROTOCOL_OPTIONS_TYPE_URL, type Plain } from './common.js';
import { TypeUrl, type ProtoResource } from './types.js';

export const EXTAUTHZ_CLUSTER = 'extAuthz';
export const EXTAUTHZ_FILTER = 'envoy.filters.http.ext_authz';
export const EXTAUTHZ_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
export const EXTAUTHZ_PER_ROUTE_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';
/** ACME HTTP-01 challenges (cert-manager's solver) are never sent to the authorization service. */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

const CLIENT_HEADER = { key: 'client', value: 'kourier' };

export function extAuthzHttpFilter(c: GatewayExtAuthz): Plain {
  const timeout = duration(c.timeoutMs);
  const service =
    c.protocol === 'grpc'
      ? { grpc_service: { envoy_grpc: { cluster_name: EXTAUTHZ_CLUSTER }, timeout, initial_metadata: [CLIENT_HEADER] } }
      : {
          http_service: {
            server_uri: {
              uri: `${c.protocol}://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`,
              cluster: EXTAUTHZ_CLUSTER,
              timeout,
            },
            path_prefix: c.pathPrefix,
            authorization_request: { headers_to_add: [CLIENT_HEADER] },
          },
        };
  return {
    name: EXTAUTHZ_FILTER,
    typed_config: {
      '@type': EXTAUTHZ_TYPE_URL,
      transport_api_version: 'V3',
      failure_mode_allow: c.failureModeAllow,
      with_request_body: { max_request_bytes: c.maxRequestBytes, allow_partial_message: true, pack_as_bytes: c.packAsBytes },
      clear_route_cache: false,
      ...service,
    },
  };
}

export function extAuthzCluster(c: GatewayExtAuthz): ProtoResource {
  const protocolConfig = c.protocol === 'grpc' ? { http2_protocol_options: {} } : { http_protocol_options: {} };
  return {
    name: EXTAUTHZ_CLUSTER,
    typeUrl: TypeUrl.Cluster,
    value: {
      name: EXTAUTHZ_CLUSTER,
      type: 'STRICT_DNS',
      connect_timeout: duration(5000),
      load_assignment: {
        cluster_name: EXTAUTHZ_CLUSTER,
        endpoints: [
          {
            lb_endpoints: [
              { endpoint: { address: { socket_address: { protocol: 'TCP', address: c.host, port_value: c.port, ipv4_compat: true } } } },
            ],
          },
        ],
      },
      typed_extension_protocol_options: {
        [HTTP_PROTOCOL_OPTIONS_KEY]: { '@type': HTTP_PROTOCOL_OPTIONS_TYPE_URL, explicit_http_config: protocolConfig },
      },
    },
  };
}

/** A virtual host's `typed_per_filter_config`: check with these context extensions (keys sorted). */
export function extAuthzCheckSettings(contextExtensions: Readonly<Record<string, string>>): Plain {
  const sorted = Object.fromEntries(
    Object.keys(contextExtensions)
      .sort()
      .map((k) => [k, contextExtensions[k]!]),
  );
  return { [EXTAUTHZ_FILTER]: { '@type': EXTAUTHZ_PER_ROUTE_TYPE_URL, check_settings: { context_extensions: sorted } } };
}

/** `typed_per_filter_config` that skips the check. */
export function extAuthzDisabled(): Plain {
  return { [EXTAUTHZ_FILTER]: { '@type': EXTAUTHZ_PER_ROUTE_TYPE_URL, disabled: true } };
}

/** Kourier's context extensions of a KIngress rule: client, visibility, then its labels (labels win). */
export function kourierContextExtensions(
  visibility: 'ExternalIP' | 'ClusterLocal',
  labels: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  return { client: 'kourier', visibility, ...(labels ?? {}) };
}
