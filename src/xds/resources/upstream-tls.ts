/**
 * Upstream TLS to Knative's activator and queue-proxy when `system-internal-tls` is enabled, as
 * net-kourier builds it (pkg/generator/ingress_translator.go createUpstreamTLSContext): TLS 1.3
 * only, ALPN `h2` for HTTP/2 backends, and the peer's certificate must carry one of the DNS SANs
 * `kn-routing` (activator) or `kn-user-<namespace>` (queue-proxy; knative/networking
 * pkg/certificates/constants.go). One difference: Kourier inlines the CA bundle in every cluster;
 * here the cluster names it and the bundle arrives over SDS as a validation context, combined with
 * the cluster's own SAN matchers (`combined_validation_context`), so a CA rotation re-sends one
 * Secret and no cluster. Pure.
 */
import type { UpstreamTls } from '../../model/types.js';
import { adsConfigSource, type Plain } from './common.js';

export const UPSTREAM_TLS_CONTEXT_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** The UpstreamTlsContext of one backend cluster. */
export function upstreamTlsContext(tls: UpstreamTls, http2: boolean): Plain {
  return {
    '@type': UPSTREAM_TLS_CONTEXT_TYPE_URL,
    common_tls_context: {
      // Kourier passes ALPN "h2" for HTTP/2 and one empty protocol otherwise, which Envoy drops.
      ...(http2 ? { alpn_protocols: ['h2'] } : {}),
      tls_params: { tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3' },
      combined_validation_context: {
        default_validation_context: {
          match_typed_subject_alt_names: tls.subjectAltNames.map((san) => ({ san_type: 'DNS', matcher: { exact: san } })),
        },
        validation_context_sds_secret_config: { name: tls.trustedCaSecret, sds_config: adsConfigSource() },
      },
    },
  };
}

/** The cluster's `transport_socket`. */
export function upstreamTlsTransportSocket(tls: UpstreamTls, http2: boolean): Plain {
  return { name: 'envoy.transport_sockets.tls', typed_config: upstreamTlsContext(tls, http2) };
}
