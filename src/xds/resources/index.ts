import type { ModelStore } from '../../model/store.js';
import type { GatewayAssignment } from '../../policy/types.js';
import { buildClusters } from './clusters.js';
import { buildGatewayConfigClusters } from './gateway-clusters.js';
import { buildClusterLoadAssignment } from './endpoints.js';
import { buildApiListeners, buildGatewayListeners } from './listeners.js';
import { buildGatewayRouteConfigs, buildGrpcRouteConfigs } from './routes.js';
import type { BuildOptions, ProtoResource, ResourceBuilders, SharedResources } from './types.js';

export * from './types.js';
export { buildCluster, buildClusters } from './clusters.js';
export { buildGatewayConfigClusters } from './gateway-clusters.js';
export { buildClusterLoadAssignment, OVERPROVISIONING_FACTOR } from './endpoints.js';
export { buildApiListener, buildApiListeners, buildGatewayListeners, GRPC_TARGET_PORTS } from './listeners.js';
export { buildGatewayRouteConfigs, buildGrpcRouteConfigs, domainsForHost, grpcRouteConfigName } from './routes.js';
export {
  buildExtprocClusters,
  DEFAULT_EXTPROC_ADDRESS,
  EXT_PROC_PER_ROUTE_TYPE_URL,
  EXTPROC_CLUSTER,
  EXTPROC_FILTER_NAME,
  EXTPROC_OPT_IN_KEY,
  extprocOptedIn,
  ORIGINAL_DST_CLUSTER,
  parseExtprocAddress,
  PICKED_ROUTE,
  withExtprocListener,
  withPickedRoute,
  withPickingSkipped,
} from './extproc.js';
export { EXTERNAL_ROUTE_CONFIG, INTERNAL_ROUTE_CONFIG, INTERNAL_KOURIER_DOMAIN } from './common.js';

/** Listeners, routes and clusters: the same for every gateway. Deterministic for equal models. */
export function buildShared(store: ModelStore, opts: BuildOptions): SharedResources {
  const routes = store.routes();
  const gateway = store.gatewayConfig();
  return {
    listeners: buildGatewayListeners(routes, gateway),
    apiListeners: buildApiListeners(routes),
    routes: [...buildGatewayRouteConfigs(routes, gateway), ...buildGrpcRouteConfigs(routes)],
    clusters: [...buildClusters(store.services(), opts), ...buildGatewayConfigClusters(gateway)],
  };
}

/** The ClusterLoadAssignment of `service` for a gateway with `assignment` (empty when either is missing). */
export function buildEndpoints(
  store: ModelStore,
  service: string,
  assignment: GatewayAssignment | undefined,
  _opts: BuildOptions,
): ProtoResource {
  return buildClusterLoadAssignment({ clusterName: service, service: store.service(service), assignment, node: (n) => store.node(n) });
}

export const resourceBuilders: ResourceBuilders = { buildShared, buildEndpoints };
