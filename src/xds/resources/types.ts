/**
 * The contract between the pure resource builders (src/xds/resources/*) and the xDS cache/server
 * (src/xds/cache, src/xds/server). Builders return plain objects shaped like the Envoy protos
 * (snake_case field names, as protobufjs `fromObject` takes them with keepCase); the cache encodes
 * each once and shares the bytes across streams.
 */
import type { ModelStore } from '../../model/store.js';
import type { GatewayAssignment } from '../../policy/types.js';

export const TypeUrl = {
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RouteConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  /** SDS: certificates the gateway listeners name (never inlined in LDS). */
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;
export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** Full proto message name of a type URL, e.g. `envoy.config.cluster.v3.Cluster`. */
export function messageNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

/** One xDS resource before encoding. */
export interface ProtoResource {
  readonly name: string;
  readonly typeUrl: TypeUrl;
  /** Plain object for protobufjs `Type.fromObject` (keepCase field names). */
  readonly value: Readonly<Record<string, unknown>>;
}

/** Resources that are the same for every gateway. */
export interface SharedResources {
  /** Envoy/Kourier gateway listeners: the wildcard LDS set (listener_8080, listener_8081). */
  readonly listeners: readonly ProtoResource[];
  /**
   * gRPC proxyless API listeners, one per service host (and host:port). Served only to clients
   * that name them; never part of the wildcard LDS set.
   */
  readonly apiListeners: readonly ProtoResource[];
  readonly routes: readonly ProtoResource[];
  readonly clusters: readonly ProtoResource[];
}

export interface BuildOptions {
  /** Set `lrs_server: {self: {}}` on EDS clusters so gateways report load (LRS). */
  readonly loadReporting: boolean;
  /** Cluster connect timeout. */
  readonly connectTimeoutMs: number;
  /**
   * `host:port` gateways that opt into ext_proc picking use to reach Proxima's ext_proc server
   * (default DEFAULT_EXTPROC_ADDRESS in extproc.ts).
   */
  readonly extprocAddress?: string;
  /**
   * Keep the ext_proc filter on every route. Otherwise, under a policy that plans for load, routes
   * whose EDS weights keep the gateway on its own node disable it (extproc/picking-gate.ts).
   */
  readonly extprocAlways?: boolean;
}

export const DEFAULT_BUILD_OPTIONS: BuildOptions = Object.freeze({ loadReporting: true, connectTimeoutMs: 5000 });

/** What src/xds/resources/index.ts exports (implemented by the builders). */
export interface ResourceBuilders {
  buildShared(store: ModelStore, opts: BuildOptions): SharedResources;
  /** The ClusterLoadAssignment of `service` as seen by a gateway with `assignment`. */
  buildEndpoints(store: ModelStore, service: string, assignment: GatewayAssignment | undefined, opts: BuildOptions): ProtoResource;
}
