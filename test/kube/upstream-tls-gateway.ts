/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy resources */
/**
 * A STAND-IN for Kourier's Envoy on the upstream side (there is no Envoy here): an ADS client (raw
 * gRPC, test/xds-protocol-client.ts) that subscribes like Envoy — wildcard CDS, then EDS for the
 * clusters and SDS for the validation contexts their transport sockets name — ACKs every response,
 * and opens upstream connections with exactly what it received:
 * - a cluster without `transport_socket` gets plain TCP;
 * - a cluster with an UpstreamTlsContext gets TLS with its `tls_params` (min/max version), its
 *   `alpn_protocols`, the trusted CA of the SDS Secret named by
 *   `combined_validation_context.validation_context_sds_secret_config`, and Envoy's SAN check: the
 *   peer certificate must carry a SAN of the matcher's type equal to one `exact` matcher of
 *   `default_validation_context.match_typed_subject_alt_names` (any one suffices); otherwise the
 *   handshake is refused, as Envoy's certificate validator refuses it.
 * Then one HTTP/1.1 GET goes over the connection to the cluster's first endpoint.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { DiscoveryResponse } from '../xds-protocol-client.js';
import { TypeUrl } from '../../src/xds/resources/types.js';
import { AdsFollower, unpack } from './ads-follower.js';

const TLS_VERSION: Record<string, 'TLSv1.2' | 'TLSv1.3'> = { TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3' };

/** DNS SANs of a peer certificate (`subjectaltname` is "DNS:a, DNS:b, IP Address:…"). */
function dnsSans(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
}

export interface UpstreamResult {
  readonly status: number;
  readonly body: string;
  /** The negotiated TLS version, when TLS was used. */
  readonly tlsVersion?: string;
}

export class UpstreamTlsGateway extends AdsFollower {
  constructor(address: string, gatewayNode: string) {
    super(address, gatewayNode, [TypeUrl.Cluster]);
  }

  /** The decoded UpstreamTlsContext of a cluster, or undefined without one. */
  tlsContextOf(cluster: string): any {
    const c = this.resources.get(TypeUrl.Cluster)?.get(cluster);
    return c?.transport_socket ? unpack(c.transport_socket.typed_config) : undefined;
  }

  protected onResponse(r: DiscoveryResponse, byName: ReadonlyMap<string, any>): void {
    if (r.type_url === TypeUrl.Cluster) {
      this.follow(TypeUrl.ClusterLoadAssignment, [...byName.keys()]);
      const sds = [...byName.keys()]
        .map((n) => this.tlsContextOf(n)?.common_tls_context?.combined_validation_context?.validation_context_sds_secret_config?.name)
        .filter((n): n is string => typeof n === 'string');
      this.follow(TypeUrl.Secret, sds);
    }
  }

  private endpointOf(cluster: string): { host: string; port: number } | undefined {
    const cla = this.resources.get(TypeUrl.ClusterLoadAssignment)?.get(cluster);
    const sa = cla?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address;
    return sa ? { host: sa.address, port: sa.port_value } : undefined;
  }

  /** Connect to the cluster's first endpoint as Envoy would (TLS when the cluster says so). */
  private connect(cluster: string): Promise<{ socket: Socket; tlsVersion?: string }> {
    const ep = this.endpointOf(cluster);
    if (!ep) return Promise.reject(new Error(`no endpoint for ${cluster}`));
    const ctx = this.tlsContextOf(cluster);
    if (!ctx)
      return new Promise((resolve, reject) => {
        const s = tcpConnect(ep.port, ep.host, () => resolve({ socket: s }));
        s.once('error', reject);
      });
    const common = ctx.common_tls_context;
    const combined = common.combined_validation_context;
    const secret = this.resources.get(TypeUrl.Secret)?.get(combined.validation_context_sds_secret_config.name);
    if (!secret) return Promise.reject(new Error('the validation context has not arrived over SDS'));
    const ca = Buffer.from(secret.validation_context.trusted_ca.inline_bytes);
    const matchers: any[] = combined.default_validation_context.match_typed_subject_alt_names ?? [];
    return new Promise((resolve, reject) => {
      const s = tlsConnect({
        host: ep.host,
        port: ep.port,
        ca,
        minVersion: TLS_VERSION[common.tls_params?.tls_minimum_protocol_version] ?? 'TLSv1.2',
        maxVersion: TLS_VERSION[common.tls_params?.tls_maximum_protocol_version] ?? 'TLSv1.3',
        ...(common.alpn_protocols?.length ? { ALPNProtocols: common.alpn_protocols } : {}),
        // Envoy verifies the chain against trusted_ca and then the SANs; no hostname check.
        checkServerIdentity: (_host, cert) => {
          const sans = dnsSans(cert);
          const ok = matchers.some((m) => m.san_type === 'DNS' && sans.includes(m.matcher.exact));
          return ok ? undefined : new Error(`SAN mismatch: the certificate carries ${sans.join(', ')}`);
        },
      });
      s.once('secureConnect', () => resolve({ socket: s, tlsVersion: s.getProtocol() ?? undefined }));
      s.once('error', reject);
    });
  }

  /** One HTTP/1.1 GET through the cluster. */
  async get(cluster: string, path = '/'): Promise<UpstreamResult> {
    const { socket, tlsVersion } = await this.connect(cluster);
    return new Promise((resolve, reject) => {
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (c) => (raw += c));
      socket.once('error', reject);
      socket.once('end', () => {
        const [head = '', body = ''] = raw.split('\r\n\r\n');
        resolve({ status: Number(head.split(' ')[1]), body, ...(tlsVersion ? { tlsVersion } : {}) });
      });
      socket.write(`GET ${path} HTTP/1.1\r\nhost: upstream\r\nconnection: close\r\n\r\n`);
    });
  }

  close(): void {
    this.closeStream();
  }
}
