/**
 * A raw ADS client that subscribes the way Kourier's Envoy gateway does (net-kourier bootstrap:
 * ADS, node id `3scale-kourier-gateway`, the node name as locality): wildcard CDS and LDS first,
 * then EDS for every cluster it received and RDS for the route configurations its listeners name
 * (`external_services`, `internal_services`). It ACKs every response like Envoy (same nonce and
 * version, the names it wants) — except route configurations while `holdRouteAcks` is set, so a
 * test can see what happens before the gateway has applied its routes. No xDS client logic is
 * borrowed: only @grpc/grpc-js and Envoy's service definitions (test/xds-protocol-client.ts).
 */
import { decodeAny, node, RawClient, type DiscoveryResponse } from '../xds-protocol-client.js';
import { TypeUrl } from '../../src/xds/resources/types.js';
import { EXTERNAL_ROUTE_CONFIG, INTERNAL_ROUTE_CONFIG } from '../../src/xds/resources/common.js';

export const KOURIER_NODE_ID = '3scale-kourier-gateway';

export class KourierLikeGateway {
  private readonly client: RawClient;
  private readonly stream;
  /** Last response per type URL. */
  readonly latest = new Map<string, DiscoveryResponse>();
  private readonly wanted = new Map<string, string[]>();
  private readonly acked = new Map<string, string>();
  private heldRoutes: DiscoveryResponse | undefined;
  private first = true;
  holdRouteAcks: boolean;

  constructor(
    address: string,
    private readonly gatewayNode: string,
    opts: { holdRouteAcks?: boolean } = {},
  ) {
    this.holdRouteAcks = opts.holdRouteAcks ?? false;
    this.client = new RawClient(address);
    this.stream = this.client.ads();
    this.stream.call.on('data', (r: DiscoveryResponse) => this.onResponse(r));
    this.request(TypeUrl.Cluster, []);
    this.request(TypeUrl.Listener, []);
  }

  /** Route configuration names the listeners refer to, once LDS arrived. */
  private static routeNamesOf(r: DiscoveryResponse): string[] {
    const names = (r.resources ?? []).map((a) => String(decodeAny(a)['name']));
    const out: string[] = [];
    if (names.includes('listener_8080')) out.push(EXTERNAL_ROUTE_CONFIG);
    if (names.includes('listener_8081')) out.push(INTERNAL_ROUTE_CONFIG);
    return out;
  }

  private request(typeUrl: string, names: string[], ack?: DiscoveryResponse): void {
    this.wanted.set(typeUrl, names);
    this.stream.send({
      ...(this.first ? { node: node(KOURIER_NODE_ID, this.gatewayNode) } : {}),
      type_url: typeUrl,
      resource_names: names,
      version_info: ack?.version_info ?? this.acked.get(typeUrl) ?? '',
      response_nonce: ack?.nonce ?? '',
    });
    this.first = false;
    if (ack) this.acked.set(typeUrl, ack.version_info);
  }

  private onResponse(r: DiscoveryResponse): void {
    this.latest.set(r.type_url, r);
    if (r.type_url === TypeUrl.RouteConfiguration && this.holdRouteAcks) {
      this.heldRoutes = r;
      return;
    }
    this.request(r.type_url, this.wanted.get(r.type_url) ?? [], r);
    if (r.type_url === TypeUrl.Cluster) {
      const clusters = (r.resources ?? []).map((a) => String(decodeAny(a)['name'])).sort();
      if (JSON.stringify(clusters) !== JSON.stringify(this.wanted.get(TypeUrl.ClusterLoadAssignment))) {
        this.request(TypeUrl.ClusterLoadAssignment, clusters);
      }
    }
    if (r.type_url === TypeUrl.Listener) {
      const routes = KourierLikeGateway.routeNamesOf(r);
      if (JSON.stringify(routes) !== JSON.stringify(this.wanted.get(TypeUrl.RouteConfiguration))) {
        this.request(TypeUrl.RouteConfiguration, routes);
      }
    }
  }

  /** Stop holding and ACK the last route configuration response. */
  releaseRouteAcks(): void {
    this.holdRouteAcks = false;
    const r = this.heldRoutes;
    this.heldRoutes = undefined;
    if (r) this.request(r.type_url, this.wanted.get(r.type_url) ?? [], r);
  }

  /** A decoded resource of the last response of `typeUrl`, by name. */
  resource(typeUrl: string, name: string): Record<string, unknown> | undefined {
    for (const a of this.latest.get(typeUrl)?.resources ?? []) {
      const d = decodeAny(a);
      if ((d['name'] ?? d['cluster_name']) === name) return d;
    }
    return undefined;
  }

  close(): void {
    this.stream.close();
    this.client.close();
  }
}
