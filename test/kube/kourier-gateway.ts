/**
 * A raw ADS client that subscribes the way Kourier's Envoy gateway does (net-kourier bootstrap:
 * ADS, node id `3scale-kourier-gateway`, the node name as locality): wildcard CDS and LDS first,
 * then EDS for every cluster it received and RDS for the route configurations its listeners name
 * (`external_services`, `internal_services`). It ACKs every response like Envoy (same nonce and
 * version, the names it wants) — except route configurations while `holdRouteAcks` is set, so a
 * test can see what happens before the gateway has applied its routes. No xDS client logic is
 * borrowed: the ADS mechanics are test/kube/ads-follower.ts over raw @grpc/grpc-js.
 */
import type { DiscoveryResponse } from '../xds-protocol-client.js';
import { TypeUrl } from '../../src/xds/resources/types.js';
import { EXTERNAL_ROUTE_CONFIG, INTERNAL_ROUTE_CONFIG } from '../../src/xds/resources/common.js';
import { AdsFollower } from './ads-follower.js';

export { KOURIER_NODE_ID } from './ads-follower.js';

export class KourierLikeGateway extends AdsFollower {
  private heldRoutes: DiscoveryResponse | undefined;
  holdRouteAcks: boolean;

  constructor(address: string, gatewayNode: string, opts: { holdRouteAcks?: boolean } = {}) {
    super(address, gatewayNode, [TypeUrl.Cluster, TypeUrl.Listener]);
    this.holdRouteAcks = opts.holdRouteAcks ?? false;
  }

  protected override holdsAck(r: DiscoveryResponse): boolean {
    if (r.type_url !== TypeUrl.RouteConfiguration || !this.holdRouteAcks) return false;
    this.heldRoutes = r;
    return true;
  }

  protected onResponse(r: DiscoveryResponse, byName: ReadonlyMap<string, unknown>): void {
    if (r.type_url === TypeUrl.Cluster) this.follow(TypeUrl.ClusterLoadAssignment, [...byName.keys()]);
    if (r.type_url === TypeUrl.Listener) {
      // The route configurations Kourier's listeners name.
      const routes: string[] = [];
      if (byName.has('listener_8080')) routes.push(EXTERNAL_ROUTE_CONFIG);
      if (byName.has('listener_8081')) routes.push(INTERNAL_ROUTE_CONFIG);
      this.follow(TypeUrl.RouteConfiguration, routes);
    }
  }

  /** Stop holding and ACK the last route configuration response. */
  releaseRouteAcks(): void {
    this.holdRouteAcks = false;
    const r = this.heldRoutes;
    this.heldRoutes = undefined;
    if (r) this.ack(r);
  }

  /** A decoded resource of `typeUrl`, by name. */
  resource(typeUrl: string, name: string): Record<string, unknown> | undefined {
    return this.resources.get(typeUrl)?.get(name);
  }

  close(): void {
    this.closeStream();
  }
}
