import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../log.js';
import { envoyProtos, grpcLookup } from '../../protos/envoy.js';
import type { XdsCache } from '../cache/snapshot-cache.js';
import { typeLabel, type XdsMetrics } from '../metrics.js';
import { TypeUrl } from '../resources/types.js';
import { DeltaStream } from './delta.js';
import { FlowControl, type FlowLimits } from './flow.js';
import { SotwStream } from './sotw.js';
import type { ApiName, Flavor, StreamContext, XdsStream } from './stream.js';

export interface ClientTypeInfo {
  readonly type: string;
  readonly typeUrl: string;
  /** '*' for wildcard, else the subscribed names (wildcard streams may also name extra ones). */
  readonly wildcard: boolean;
  readonly names: readonly string[];
  readonly held: number;
  readonly versionSent: string | null;
  readonly versionAcked: string | null;
  readonly lastNack: { readonly version: string; readonly message: string; readonly atMs: number } | null;
  readonly responses: number;
  readonly acks: number;
  readonly nacks: number;
}

/** One open xDS stream, for /debug/clients. */
export interface ClientInfo {
  readonly streamId: number;
  readonly peer: string;
  readonly nodeId: string | null;
  readonly gatewayNode: string | null;
  /** True when the gateway node is unknown to the model (served the even assignment). */
  readonly unknownNode: boolean;
  readonly api: ApiName;
  readonly flavor: Flavor;
  readonly userAgent: string | null;
  readonly connectedAtMs: number;
  readonly types: readonly ClientTypeInfo[];
}

export interface XdsServerOptions {
  readonly cache: XdsCache;
  readonly log: Logger;
  readonly metrics: XdsMetrics;
  readonly nowMs?: () => number;
  readonly changeOriginMs?: () => number | undefined;
  /** Cache key of gateways on unknown nodes. */
  readonly unknownKey: string;
  readonly flowLimits?: FlowLimits;
}

type MethodImpl = grpc.handleBidiStreamingCall<unknown, Buffer>;

interface ServiceSpec {
  readonly path: string;
  readonly api: ApiName;
  readonly typeUrl: TypeUrl | undefined;
  readonly sotw: string;
  readonly delta: string;
}

const SERVICES: readonly ServiceSpec[] = [
  { path: 'envoy.service.discovery.v3.AggregatedDiscoveryService', api: 'ads', typeUrl: undefined, sotw: 'StreamAggregatedResources', delta: 'DeltaAggregatedResources' },
  { path: 'envoy.service.cluster.v3.ClusterDiscoveryService', api: 'cds', typeUrl: TypeUrl.Cluster, sotw: 'StreamClusters', delta: 'DeltaClusters' },
  { path: 'envoy.service.endpoint.v3.EndpointDiscoveryService', api: 'eds', typeUrl: TypeUrl.ClusterLoadAssignment, sotw: 'StreamEndpoints', delta: 'DeltaEndpoints' },
  { path: 'envoy.service.listener.v3.ListenerDiscoveryService', api: 'lds', typeUrl: TypeUrl.Listener, sotw: 'StreamListeners', delta: 'DeltaListeners' },
  { path: 'envoy.service.route.v3.RouteDiscoveryService', api: 'rds', typeUrl: TypeUrl.RouteConfiguration, sotw: 'StreamRoutes', delta: 'DeltaRoutes' },
];

/**
 * The service definition with responses passed through as already-encoded bytes (responses are
 * assembled from shared pre-encoded resources); requests are decoded by proto-loader as usual.
 */
function preEncodedResponses(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(def)) {
    out[name] = { ...method, responseSerialize: (b: unknown) => b as Buffer };
  }
  return out as grpc.ServiceDefinition;
}

/** ADS (SotW + Delta) and the four per-type discovery services over one XdsCache. */
export class XdsServer {
  private readonly streams = new Map<number, XdsStream>();
  private nextId = 1;
  private readonly ctx: StreamContext;

  constructor(private readonly opts: XdsServerOptions) {
    this.ctx = {
      cache: opts.cache,
      log: opts.log,
      metrics: opts.metrics,
      nowMs: opts.nowMs ?? Date.now,
      changeOriginMs: opts.changeOriginMs ?? (() => undefined),
      unknownKey: opts.unknownKey,
      flow: new FlowControl(opts.flowLimits),
      onClose: (s) => this.streams.delete(s.id),
    };
  }

  register(server: grpc.Server): void {
    const protos = envoyProtos();
    for (const spec of SERVICES) {
      const ctor = grpcLookup<grpc.ServiceClientConstructor>(protos.grpc, spec.path);
      const impl: Record<string, MethodImpl> = {
        [spec.sotw]: (call) => this.open(call, spec, 'sotw'),
        [spec.delta]: (call) => this.open(call, spec, 'delta'),
      };
      server.addService(preEncodedResponses(ctor.service), impl as unknown as grpc.UntypedServiceImplementation);
    }
  }

  private open(call: grpc.ServerDuplexStream<unknown, Buffer>, spec: ServiceSpec, flavor: Flavor): void {
    const id = this.nextId++;
    const Stream = flavor === 'sotw' ? SotwStream : DeltaStream;
    const stream = new Stream(this.ctx, call, id, spec.api, flavor, spec.typeUrl);
    this.streams.set(id, stream);
  }

  streamCount(): number {
    return this.streams.size;
  }

  clients(): ClientInfo[] {
    return [...this.streams.values()].map((s) => ({
      streamId: s.id,
      peer: s.peer,
      nodeId: s.nodeId ?? null,
      gatewayNode: s.gatewayNode ?? null,
      unknownNode: s.unknownNode,
      api: s.api,
      flavor: s.flavor,
      userAgent: s.userAgent ?? null,
      connectedAtMs: s.connectedAtMs,
      types: [...s.typeStates().values()].map((t) => ({
        type: typeLabel(t.typeUrl),
        typeUrl: t.typeUrl,
        wildcard: t.wildcard,
        names: [...t.names].sort(),
        held: t.held.size,
        versionSent: t.versionSent ?? null,
        versionAcked: t.versionAcked ?? null,
        lastNack: t.lastNack ? { version: t.lastNack.version, message: t.lastNack.message, atMs: t.lastNack.atMs } : null,
        responses: t.responses,
        acks: t.acks,
        nacks: t.nacks,
      })),
    }));
  }

  /** End every stream (clients reconnect elsewhere or later). */
  close(): void {
    for (const s of [...this.streams.values()]) s.close();
  }
}
