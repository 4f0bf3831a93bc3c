import type { Endpoint, NodeInfo, Service } from '../../model/types.js';
import type { GatewayAssignment } from '../../policy/types.js';
import type { ProtoResource } from './types.js';
import { TypeUrl } from './types.js';
import { byString, type Plain } from './common.js';

/** Envoy's default (1.4): a priority keeps its traffic until fewer than ~71 % of its endpoints are healthy. */
export const OVERPROVISIONING_FACTOR = 140;

export interface EndpointsInput {
  /** Cluster / EDS name, `namespace/name`. */
  readonly clusterName: string;
  /** The service, if it exists. */
  readonly service: Service | undefined;
  readonly assignment: GatewayAssignment | undefined;
  /** Node lookup for locality region/zone and readiness. */
  node(name: string): NodeInfo | undefined;
}

function routable(e: Endpoint, node: NodeInfo | undefined): boolean {
  return e.ready && !e.pending && (node === undefined || node.ready);
}

function routableByNode(endpoints: readonly Endpoint[], input: EndpointsInput): Map<string, Endpoint[]> {
  const byNode = new Map<string, Endpoint[]>();
  for (const e of endpoints) {
    if (!routable(e, input.node(e.node))) continue;
    const list = byNode.get(e.node);
    if (list) list.push(e);
    else byNode.set(e.node, [e]);
  }
  return byNode;
}

/**
 * The ClusterLoadAssignment one gateway sees: one LocalityLbEndpoints per assigned node that has
 * ready endpoints, then the service's ready activators (Knative) as one last priority. Rules the
 * gRPC clients taught us:
 * - every locality needs `locality` and a `load_balancing_weight` >= 1: grpc-js-xds and C-core
 *   silently drop a locality without a weight (and still ACK);
 * - priorities must be contiguous from 0 (both clients reject a gap), so levels left empty after
 *   dropping nodes without ready endpoints are renumbered; with no ready pod the activators are
 *   priority 0 (scale from zero);
 * - the same (locality, priority) may not appear twice.
 * Ordering is by priority, then node name, then address/port, so equal inputs give equal bytes.
 */
export function buildClusterLoadAssignment(input: EndpointsInput): ProtoResource {
  const { clusterName, service, assignment } = input;
  const localities: Plain[] = [];
  const locality = (nodeName: string, priority: number, weight: number, endpoints: readonly Endpoint[]): Plain => {
    const node = input.node(nodeName);
    return {
      locality: { region: node?.region ?? '', zone: node?.zone ?? '', sub_zone: nodeName },
      priority,
      load_balancing_weight: { value: Math.max(1, Math.round(weight)) },
      lb_endpoints: [...endpoints]
        .sort((a, b) => byString(a.address, b.address) || a.port - b.port)
        .map((e) => ({
          endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          health_status: 'HEALTHY',
        })),
    };
  };
  let levelCount = 0;
  if (service && assignment) {
    const byNode = routableByNode(service.endpoints, input);
    const seen = new Set<string>();
    const kept = assignment.localities
      .filter((l) => byNode.has(l.node) && !seen.has(l.node) && (seen.add(l.node), true))
      .sort((a, b) => a.priority - b.priority || byString(a.node, b.node));
    const levels = [...new Set(kept.map((l) => l.priority))];
    levelCount = levels.length;
    for (const l of kept) localities.push(locality(l.node, levels.indexOf(l.priority), l.weight, byNode.get(l.node)!));
  }
  if (service?.activators?.length) {
    const byNode = routableByNode(service.activators, input);
    for (const node of [...byNode.keys()].sort(byString)) {
      const endpoints = byNode.get(node)!;
      localities.push(locality(node, levelCount, endpoints.length, endpoints));
    }
  }
  return {
    name: clusterName,
    typeUrl: TypeUrl.ClusterLoadAssignment,
    value: {
      cluster_name: clusterName,
      endpoints: localities,
      policy: { overprovisioning_factor: { value: OVERPROVISIONING_FACTOR } },
    },
  };
}
