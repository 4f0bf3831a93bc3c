/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks decoded Envoy resources */
/**
 * A STAND-IN for Kourier's Envoy on its HTTPS listener (there is no Envoy here): an ADS client
 * (raw gRPC, test/xds-protocol-client.ts) that subscribes like Envoy — wildcard CDS and LDS, then
 * SDS for the certificates `listener_8443` names, RDS for its route configuration and EDS for the
 * clusters — ACKs every response, and terminates TLS with exactly what it received:
 * - the filter chain is chosen by SNI against `filter_chain_match.server_names` (a chain without a
 *   match is the fallback), as Envoy's filter chain matching does;
 * - the chain's certificate is the SDS Secret its `tls_certificate_sds_secret_configs` names;
 *   when SDS sends a new version, new handshakes use it and open connections are untouched
 *   (Envoy's SDS update: no listener drain);
 * - the decrypted stream goes to the first endpoint of the first cluster of the first non-probe
 *   route of the virtual host the SNI name selects (RDS → CDS → EDS).
 */
import { connect, type AddressInfo } from 'node:net';
import { createSecureContext, createServer, type SecureContext, type Server, type TLSSocket } from 'node:tls';
import type { DiscoveryResponse } from '../xds-protocol-client.js';
import { TypeUrl } from '../../src/xds/resources/types.js';
import { AdsFollower, unpack } from './ads-follower.js';

const LISTENER = 'listener_8443';

/** The SDS secret name and RDS route configuration of a listener filter chain. */
function chainParts(chain: any): { secret: string; routeConfig: string } {
  const tls = unpack(chain.transport_socket.typed_config);
  const hcm = unpack(chain.filters[0].typed_config);
  return { secret: tls.common_tls_context.tls_certificate_sds_secret_configs[0].name, routeConfig: hcm.rds.route_config_name };
}

export class SdsTlsGateway extends AdsFollower {
  /** Every response's version per type (LDS: to show a rotation does not touch the listener). */
  readonly versions = new Map<string, string[]>();
  private readonly contexts = new Map<string, SecureContext>();
  private server: Server | undefined;

  constructor(address: string, gatewayNode: string) {
    super(address, gatewayNode, [TypeUrl.Cluster, TypeUrl.Listener]);
  }

  protected onResponse(r: DiscoveryResponse, byName: ReadonlyMap<string, any>): void {
    this.versions.set(r.type_url, [...(this.versions.get(r.type_url) ?? []), r.version_info]);
    if (r.type_url === TypeUrl.Secret) for (const name of byName.keys()) this.contexts.delete(name);
    if (r.type_url === TypeUrl.Cluster) this.follow(TypeUrl.ClusterLoadAssignment, [...byName.keys()]);
    if (r.type_url === TypeUrl.Listener) {
      const l = byName.get(LISTENER);
      const chains: any[] = l?.filter_chains ?? [];
      this.follow(
        TypeUrl.Secret,
        chains.map((c) => chainParts(c).secret),
      );
      this.follow(
        TypeUrl.RouteConfiguration,
        chains.map((c) => chainParts(c).routeConfig),
      );
    }
  }

  /** The listener chain Envoy would pick for this SNI name. */
  private chainFor(serverName: string): any {
    const chains: any[] = this.resources.get(TypeUrl.Listener)?.get(LISTENER)?.filter_chains ?? [];
    return chains.find((c) => (c.filter_chain_match?.server_names ?? []).includes(serverName)) ?? chains.find((c) => !c.filter_chain_match);
  }

  private contextFor(secretName: string): SecureContext | undefined {
    let ctx = this.contexts.get(secretName);
    if (ctx) return ctx;
    const s = this.resources.get(TypeUrl.Secret)?.get(secretName);
    if (!s) return undefined;
    ctx = createSecureContext({
      cert: Buffer.from(s.tls_certificate.certificate_chain.inline_bytes),
      key: Buffer.from(s.tls_certificate.private_key.inline_bytes),
      minVersion: 'TLSv1.2',
    });
    this.contexts.set(secretName, ctx);
    return ctx;
  }

  /** host:port of the pod the route for `host` leads to. */
  private upstreamFor(routeConfigName: string, host: string): { host: string; port: number } | undefined {
    const rc = this.resources.get(TypeUrl.RouteConfiguration)?.get(routeConfigName);
    const vh = rc?.virtual_hosts.find((v: any) => v.domains.includes(host));
    const route = vh?.routes.find((r: any) => !String(r.name).endsWith('/probe'));
    const cluster = route?.route?.weighted_clusters?.clusters?.[0]?.name;
    const cla = this.resources.get(TypeUrl.ClusterLoadAssignment)?.get(cluster);
    const sa = cla?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address;
    return sa ? { host: sa.address, port: sa.port_value } : undefined;
  }

  /** Listen on 127.0.0.1:0 as listener_8443 would; returns the port. */
  async listen(): Promise<number> {
    this.server = createServer(
      {
        SNICallback: (name, cb) => {
          const chain = this.chainFor(name);
          const secret = chain ? chainParts(chain).secret : undefined;
          const ctx = secret ? this.contextFor(secret) : undefined;
          if (ctx) cb(null, ctx);
          else cb(new Error(`no certificate for ${name}`));
        },
      },
      (socket: TLSSocket) => {
        const name = (socket as TLSSocket & { servername?: string }).servername ?? '';
        const chain = this.chainFor(name);
        const rds = chain ? chainParts(chain).routeConfig : undefined;
        const up = rds ? this.upstreamFor(rds, name) : undefined;
        if (!up) return socket.destroy();
        const upstream = connect(up.port, up.host);
        socket.pipe(upstream).pipe(socket);
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
      },
    );
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.closeStream();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
