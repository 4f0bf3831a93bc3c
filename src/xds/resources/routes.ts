import {
  DEFAULT_GATEWAY_CONFIG,
  type GatewayConfig,
  type GatewayExtAuthz,
  type HttpRoute,
  type RouteRule,
  type RouteVisibility,
} from '../../model/types.js';
import { ACME_CHALLENGE_PREFIX, extAuthzCheckSettings, extAuthzDisabled, kourierContextExtensions } from './extauthz.js';
import { HASH_HEADER, HASH_VALUE_OVERRIDE } from '../../model/knative-probe.js';
import { hasExternalTls } from './tls.js';
import type { ProtoResource } from './types.js';
import { TypeUrl } from './types.js';
import {
  byString,
  duration,
  EXTERNAL_ROUTE_CONFIG,
  EXTERNAL_TLS_ROUTE_CONFIG,
  headersToAdd,
  INTERNAL_KOURIER_DOMAIN,
  INTERNAL_ROUTE_CONFIG,
  INTERNAL_TLS_ROUTE_CONFIG,
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
  /** The route the rule belongs to (its visibility and KIngress labels feed ext_authz). */
  readonly of: HttpRoute;
  readonly index: number;
  readonly rule: RouteRule;
  /** The route's Knative readiness hash (probe copies of the rule carry it). */
  readonly probeHash?: string;
  /** Answer with a 301 to https instead of routing (httpOption Redirected, plain-HTTP external listener). */
  readonly redirect?: boolean;
}

/** Which rules a route configuration holds and how. */
interface RouteConfigSpec {
  readonly visibility: RouteVisibility | undefined;
  /** Only routes passing this filter (e.g. routes with TLS for external_tls_services). */
  readonly include?: (r: HttpRoute) => boolean;
  /** Honour `httpsRedirect` (the plain-HTTP external listener only). */
  readonly redirects?: boolean;
  /** config-kourier ext_authz: check settings on every virtual host. */
  readonly extAuthz?: GatewayExtAuthz;
  /** The plain-HTTP configurations: ACME HTTP-01 paths skip ext_authz and are never redirected (Kourier). */
  readonly acmeExempt?: boolean;
}

/**
 * Rules per host across all routes. Envoy requires each domain once per route configuration, so
 * routes sharing a host merge into one virtual host (as Kourier does). Envoy takes the first
 * matching route, so longer path prefixes go first, then rules with more header matches; ties
 * keep route-name and rule order.
 */
function rulesByHost(routes: readonly HttpRoute[], spec: RouteConfigSpec): Map<string, HostRule[]> {
  const out = new Map<string, HostRule[]>();
  const sorted = [...routes].sort((a, b) => byString(a.name, b.name));
  for (const r of sorted) {
    if (spec.visibility && !r.visibility.includes(spec.visibility)) continue;
    if (spec.include && !spec.include(r)) continue;
    const redirect = spec.redirects === true && r.httpsRedirect === true;
    for (const host of r.hosts) {
      const list = out.get(host) ?? [];
      r.rules.forEach((rule, index) =>
        list.push({
          route: r.name,
          of: r,
          index,
          rule,
          ...(r.probeHash ? { probeHash: r.probeHash } : {}),
          ...(redirect ? { redirect } : {}),
        }),
      );
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

/**
 * Knative's probe copy of a rule (knative/networking pkg/ingress InsertProbe): the same match plus
 * `K-Network-Hash: override`, setting `K-Network-Hash: <hash>` so the backend echoes the hash.
 */
function probeRule(rule: RouteRule, hash: string): RouteRule {
  return {
    ...rule,
    headers: [...rule.headers, { name: HASH_HEADER, exact: HASH_VALUE_OVERRIDE }],
    appendHeaders: { ...rule.appendHeaders, [HASH_HEADER]: hash },
  };
}

/** The routes of one rule: its probe copy first (when the route has a hash), then the rule. */
function gatewayRoutes(hr: HostRule, spec: RouteConfigSpec): Plain[] {
  // Kourier (ingress_translator.go): with ext_authz on, an ACME HTTP-01 path is routed, unchecked, even when redirected.
  const acme = spec.acmeExempt === true && spec.extAuthz !== undefined && prefixOf(hr.rule).startsWith(ACME_CHALLENGE_PREFIX);
  const rule: HostRule = acme ? { ...hr, redirect: false } : hr;
  const probe = rule.probeHash ? [gatewayRoute({ ...rule, rule: probeRule(rule.rule, rule.probeHash) }, '/probe')] : [];
  const out = [...probe, gatewayRoute(rule, '')];
  return acme ? out.map((r) => ({ ...r, typed_per_filter_config: extAuthzDisabled() })) : out;
}

/** An Envoy gateway route, as net-kourier's NewRoute (or NewRedirectRoute) builds it. */
function gatewayRoute(hr: HostRule, suffix: string): Plain {
  const { rule } = hr;
  const name = `${hr.route}/${hr.index}${suffix}`;
  // NewRedirectRoute: scheme rewrite to https, Envoy's default response code 301 (MOVED_PERMANENTLY).
  if (hr.redirect) return { name, match: routeMatch(rule), redirect: { https_redirect: true } };
  return {
    name,
    match: routeMatch(rule),
    route: {
      ...(rule.prefixRewrite !== undefined ? { prefix_rewrite: rule.prefixRewrite } : {}),
      ...(rule.hostRewrite !== undefined ? { host_rewrite_literal: rule.hostRewrite } : {}),
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

function gatewayRouteConfig(name: string, routes: readonly HttpRoute[], spec: RouteConfigSpec, status: boolean): ProtoResource {
  const virtualHosts: Plain[] = [...rulesByHost(routes, spec)].map(([host, rules]) => ({
    name: host,
    domains: domainsForHost(host),
    routes: rules.flatMap((hr) => gatewayRoutes(hr, spec)),
    ...(spec.extAuthz ? { typed_per_filter_config: checkSettingsOf(rules[0]!.of) } : {}),
  }));
  if (status)
    virtualHosts.push({ ...internalKourierVirtualHost(), ...(spec.extAuthz ? { typed_per_filter_config: extAuthzDisabled() } : {}) });
  // Kourier's NewRouteConfig: Envoy refuses a route configuration naming a cluster it does not have.
  return { name, typeUrl: TypeUrl.RouteConfiguration, value: { name, virtual_hosts: virtualHosts, validate_clusters: { value: true } } };
}

/** A virtual host's ext_authz check settings; one KIngress owns a host (DomainConflict), so its first route speaks for it. */
function checkSettingsOf(route: HttpRoute): Plain {
  return extAuthzCheckSettings(
    kourierContextExtensions(route.visibility.includes('external') ? 'ExternalIP' : 'ClusterLocal', route.ingressLabels),
  );
}

/**
 * `external_services` (8080/8090; 301 for redirected routes), `internal_services` (8081), and
 * with TLS `external_tls_services` (8443/9443: routes with `spec.tls`, or every external route
 * when a default certificate is set) and `internal_tls_services` (8444, `cluster-cert-secret`).
 */
export function buildGatewayRouteConfigs(routes: readonly HttpRoute[], gateway: GatewayConfig = DEFAULT_GATEWAY_CONFIG): ProtoResource[] {
  const authz = gateway.extAuthz ? { extAuthz: gateway.extAuthz } : {};
  const out = [
    gatewayRouteConfig(EXTERNAL_ROUTE_CONFIG, routes, { visibility: 'external', redirects: true, acmeExempt: true, ...authz }, false),
    gatewayRouteConfig(INTERNAL_ROUTE_CONFIG, routes, { visibility: 'internal', acmeExempt: true, ...authz }, true),
  ];
  if (hasExternalTls(routes, gateway)) {
    const include = gateway.defaultCertificate ? undefined : (r: HttpRoute) => (r.tls?.length ?? 0) > 0;
    out.push(
      gatewayRouteConfig(EXTERNAL_TLS_ROUTE_CONFIG, routes, { visibility: 'external', ...(include ? { include } : {}), ...authz }, false),
    );
  }
  if (gateway.clusterCertificate)
    out.push(gatewayRouteConfig(INTERNAL_TLS_ROUTE_CONFIG, routes, { visibility: 'internal', ...authz }, false));
  return out;
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
  for (const [host, rules] of rulesByHost(routes, { visibility: undefined })) {
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
