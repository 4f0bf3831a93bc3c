import type { GatewayConfig, HttpRoute } from '../../model/types.js';
import { adsConfigSource, type Plain } from './common.js';

/**
 * TLS on the gateway listeners, as net-kourier builds it (pkg/envoy/api/listener.go
 * NewHTTPSListenerWithSNI, createTLSContext; pkg/generator/sni.go) with one difference: the
 * certificate is not inlined in LDS but named, and delivered over SDS on the same ADS stream
 * (`tls_certificate_sds_secret_configs`). A rotated Secret then changes the SDS resource only;
 * the listener bytes stay the same, so Envoy swaps the certificate without draining the listener.
 */

export const DOWNSTREAM_TLS_CONTEXT_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const TLS_INSPECTOR_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
export const PROXY_PROTOCOL_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol';

/** One SNI filter chain: the hosts (`server_names`) a Secret's certificate is served for. */
export interface SniMatch {
  readonly hosts: readonly string[];
  /** Secret `namespace/name`; also the SDS resource name. */
  readonly secret: string;
}

/**
 * Every `spec.tls` entry of the routes, in route order. Envoy refuses two filter chains with the
 * same server name, so a host claimed by an earlier entry is dropped from later ones, and entries
 * left without hosts are dropped (an empty `server_names` would match every name).
 */
export function sniMatchesOf(routes: readonly HttpRoute[]): SniMatch[] {
  const claimed = new Set<string>();
  const out: SniMatch[] = [];
  const sorted = [...routes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const r of sorted) {
    for (const t of r.tls ?? []) {
      const hosts = [...new Set(t.hosts)].filter((h) => !claimed.has(h)).sort();
      if (hosts.length === 0) continue;
      for (const h of hosts) claimed.add(h);
      out.push({ hosts, secret: t.secret });
    }
  }
  return out;
}

/** The DownstreamTlsContext of one chain: Kourier's ALPN, minimum version and cipher suites; cert over SDS. */
export function downstreamTlsContext(secret: string, gateway: GatewayConfig): Plain {
  return {
    '@type': DOWNSTREAM_TLS_CONTEXT_TYPE_URL,
    common_tls_context: {
      alpn_protocols: ['h2', 'http/1.1'],
      tls_params: {
        tls_minimum_protocol_version: gateway.minimumTlsVersion,
        ...(gateway.cipherSuites.length ? { cipher_suites: [...gateway.cipherSuites] } : {}),
      },
      tls_certificate_sds_secret_configs: [{ name: secret, sds_config: adsConfigSource() }],
    },
  };
}

export function tlsTransportSocket(secret: string, gateway: GatewayConfig): Plain {
  return { name: 'envoy.transport_sockets.tls', typed_config: downstreamTlsContext(secret, gateway) };
}

/** Listener filters: proxy_protocol first when enabled, then tls_inspector on TLS listeners (Kourier's order). */
export function listenerFilters(opts: { readonly tls: boolean; readonly proxyProtocol: boolean }): Plain[] {
  return [
    ...(opts.proxyProtocol ? [{ name: 'envoy.filters.listener.proxy_protocol', typed_config: { '@type': PROXY_PROTOCOL_TYPE_URL } }] : []),
    ...(opts.tls ? [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TLS_INSPECTOR_TYPE_URL } }] : []),
  ];
}

/** Secrets (`namespace/name`) the listeners of these routes and this config refer to, sorted. */
export function referencedSecrets(routes: readonly HttpRoute[], gateway: GatewayConfig): string[] {
  const names = new Set(sniMatchesOf(routes).map((m) => m.secret));
  if (gateway.defaultCertificate) names.add(gateway.defaultCertificate);
  if (gateway.clusterCertificate) names.add(gateway.clusterCertificate);
  return [...names].sort();
}

/** True when the external HTTPS listener exists: a default certificate or any `spec.tls`. */
export function hasExternalTls(routes: readonly HttpRoute[], gateway: GatewayConfig): boolean {
  return gateway.defaultCertificate !== undefined || sniMatchesOf(routes).length > 0;
}
