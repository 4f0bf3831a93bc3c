import type { HttpRoute, RouteRule, RouteVisibility } from '../../model/types.js';
import type { ProtoResource } from './types.js';
import { TypeUrl } from './types.js';
import {
  byString,
  duration,
  EXTERNAL_ROUTE_CONFIG,
  headersToAdd,
  INTERNAL_KOURIER_DOMAIN,
  INTERNAL_ROUTE_CONFIG,
  type Plain,
} from './common.js';

/**
 * Envoy does not match gRPC authorities that carry a port, so Kourier adds `host:*` (envoy#886).
 * `*` alone already matches every authority, port included.
 */
export function domainsForHost(host: string): string[] {
  return host === '*' ? [host] : [host, `${host}:*`];
}

interface HostRule {
  readonly route: string;
  readonly index: number;
  readonly rule: RouteRule;
}

/**
 * Rules per host across all routes. Envoy requires each domain once per route configuration, so
 * routes sharing a host merge into one virtual host (as Kourier does). Envoy takes the first
 * matching route, so longer path prefixes go first, then rules with more header matches; ties
 * keep route-name and rule order.
 */
function rulesByHost(routes: readonly HttpRoute[], visibility: RouteVisibility | undefined): Map<string, HostRule[]> {
  const out = new Map<string, HostRule[]>();
  const sorted = [...routes].sort((a, b) => byString(a.name, b.name));
  for (const r of sorted) {
    if (visibility && !r.visibility.includes(visibility)) continue;
    for (const host of r.hosts) {
      const list = out.get(host) ?? [];
      r.rules.forEach((rule, index) => list.push({ route: r.name, index, rule }));
      out.set(host, list);
    }
  }
  for (const list of out.values()) {
    list.sort((a, b) => prefixOf(b.rule).length - prefixOf(a.rule).length || b.rule.headers.length - a.rule.headers.length);
  }
  return new Map([...out].sort(([a], [b]) => byString(a, b)));
}

function prefixOf(rule: RouteRule): string {
  return rule.pathPrefix || '/';
}

/** The path match of a rule: `path` (exact, query excluded) or `prefix`, plus exact header matches. */
function routeMatch(rule: RouteRule): Plain {
  const path = rule.exactPath ? { path: prefixOf(rule) } : { prefix: prefixOf(rule) };
  return { ...path, ...(rule.headers.length ? { headers: headerMatchers(rule) } : {}) };
}

function headerMatchers(rule: RouteRule): Plain[] {
  return rule.headers.map((h) => ({ name: h.name, string_match: { exact: h.exact } }));
}

/** An Envoy gateway route, as net-kourier's NewRoute builds it. */
function gatewayRoute(hr: HostRule): Plain {
  const { rule } = hr;
  return {
    name: `${hr.route}/${hr.index}`,
    match: routeMatch(rule),
    route: {
      ...(rule.prefixRewrite !== undefined ? { prefix_rewrite: rule.prefixRewrite } : {}),
      weighted_clusters: {
        clusters: rule.splits.map((s) => ({
          name: s.service,
          weight: { value: Math.round(s.percent) },
          ...(Object.keys(s.appendHeaders).length ? { request_headers_to_add: headersToAdd(s.appendHeaders) } : {}),
        })),
      },
      // Kourier always sets it; 0 disables Envoy's 15 s default (Knative enforces its own timeouts).
      timeout: duration(rule.timeoutMs),
      upgrade_configs: [{ upgrade_type: 'websocket', enabled: { value: true } }],
    },
    ...(Object.keys(rule.appendHeaders).length ? { request_headers_to_add: headersToAdd(rule.appendHeaders) } : {}),
  };
}

/** Kourier's status host: the internal listener answers `/ready` once the gateway has its config. */
export function internalKourierVirtualHost(): Plain {
  return {
    name: INTERNAL_KOURIER_DOMAIN,
    domains: [INTERNAL_KOURIER_DOMAIN],
    routes: [{ name: 'gateway_ready', match: { prefix: '/ready' }, direct_response: { status: 200 } }],
  };
}

function gatewayRouteConfig(name: string, routes: readonly HttpRoute[], visibility: RouteVisibility): ProtoResource {
  const virtualHosts: Plain[] = [...rulesByHost(routes, visibility)].map(([host, rules]) => ({
    name: host,
    domains: domainsForHost(host),
    routes: rules.map(gatewayRoute),
  }));
  if (visibility === 'internal') virtualHosts.push(internalKourierVirtualHost());
  return { name, typeUrl: TypeUrl.RouteConfiguration, value: { name, virtual_hosts: virtualHosts } };
}

/** `external_services` (listener_8080) and `internal_services` (listener_8081). */
export function buildGatewayRouteConfigs(routes: readonly HttpRoute[]): ProtoResource[] {
  return [gatewayRouteConfig(EXTERNAL_ROUTE_CONFIG, routes, 'external'), gatewayRouteConfig(INTERNAL_ROUTE_CONFIG, routes, 'internal')];
}

/** Route configuration name the gRPC API listener for `host` refers to. */
export function grpcRouteConfigName(host: string): string {
  return host;
}

/**
 * Minimal route configuration for gRPC proxyless clients, one per host. gRPC supports only a
 * subset of RouteAction: `cluster` or `weighted_clusters` (no request_headers_to_add, no
 * upgrade_configs, `timeout` ignored in favour of max_stream_duration), prefix/path/regex matches
 * and header matchers. C-core up to at least 1.51 NACKs weighted_clusters whose weights do not add
 * up to `total_weight` (default 100; "incorrect total weight"), newer clients use the sum and
 * ignore the deprecated field: so it is set to the sum when that is not 100. Zero-weight splits
 * are left out and a single split becomes `cluster`. gRPC cannot rewrite paths (it ignores
 * `prefix_rewrite`), so rules that need one (OpenFaaS's `/function/NAME`) are left out.
 */
function grpcRoute(hr: HostRule): Plain {
  const positive = hr.rule.splits.filter((s) => Math.round(s.percent) > 0);
  const action: Plain =
    positive.length === 1
      ? { cluster: positive[0]!.service }
      : { weighted_clusters: weightedClusters(positive.map((s) => ({ name: s.service, weight: { value: Math.round(s.percent) } }))) };
  return {
    name: `${hr.route}/${hr.index}`,
    match: routeMatch(hr.rule),
    route: action,
  };
}

function weightedClusters(clusters: Array<{ name: string; weight: { value: number } }>): Plain {
  const sum = clusters.reduce((a, c) => a + c.weight.value, 0);
  return sum === 100 ? { clusters } : { clusters, total_weight: { value: sum } };
}

export function buildGrpcRouteConfigs(routes: readonly HttpRoute[]): ProtoResource[] {
  const out: ProtoResource[] = [];
  for (const [host, rules] of rulesByHost(routes, undefined)) {
    const usable = rules.filter((r) => r.rule.prefixRewrite === undefined && r.rule.splits.some((s) => Math.round(s.percent) > 0));
    const name = grpcRouteConfigName(host);
    out.push({
      name,
      typeUrl: TypeUrl.RouteConfiguration,
      value: { name, virtual_hosts: [{ name: host, domains: domainsForHost(host), routes: usable.map(grpcRoute) }] },
    });
  }
  return out;
}
