import * as grpc from '@grpc/grpc-js';
import type { GrpcServiceHost } from '../../net/grpc-h2-services.js';
import type { Logger } from '../../log.js';
import { envoyProtos, grpcLookup } from '../../protos/envoy.js';
import type { XdsCache } from '../cache/snapshot-cache.js';
import { typeLabel, type XdsMetrics } from '../metrics.js';
import { TypeUrl } from '../resources/types.js';
import { DeltaStream } from './delta.js';
import { FlowControl, type FlowLimits } from './flow.js';
import { deserializeDiscoveryRequest } from './request.js';
import { serializeResponse, type ResponseBytes } from './wire.js';
import { SotwStream } from './sotw.js';
import { SharedSotwResponses } from './shared-responses.js';
import {
  DEFAULT_REQUEST_LIMITS,
  type ApiName,
  type Flavor,
  type NodeMessage,
  type RequestLimits,
  type StreamContext,
  type XdsStream,
} from './stream.js';
import type { NodeAuthorizer } from '../../tls/authorizer.js';

export interface ClientTypeInfo {
  readonly type: string;
  readonly typeUrl: string;
  /** True for a wildcard subscription (SotW empty list, or '*'); `names` lists explicit names besides it. */
  readonly wildcard: boolean;
  readonly names: readonly string[];
  /** Number of resources the client holds: what was last sent to it (a NACKed version included). */
  readonly held: number;
  /** True while a push of this type waits for flow control (the client is slow or the server busy). */
  readonly deferred: boolean;
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
  /** The resource variant the client sees (e.g. ext_proc picking), null for the plain resources. */
  readonly variant: string | null;
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
  /** Picks the resource variant a client sees from its first Node (default: none, plain resources). */
  readonly variantOf?: (node: NodeMessage, gatewayNode: string) => string | undefined;
  readonly limits?: Partial<RequestLimits>;
  readonly authorizer?: NodeAuthorizer;
}

export interface XdsServerStats {
  readonly streams: number;
  readonly outstandingBytes: number;
  readonly waitingStreams: number;
}

type MethodImpl = grpc.handleBidiStreamingCall<unknown, ResponseBytes>;

interface ServiceSpec {
  readonly path: string;
  readonly api: ApiName;
  readonly typeUrl: TypeUrl | undefined;
  readonly sotw: string;
  readonly delta: string;
}

const SERVICES: readonly ServiceSpec[] = [
  {
    path: 'envoy.service.discovery.v3.AggregatedDiscoveryService',
    api: 'ads',
    typeUrl: undefined,
    sotw: 'StreamAggregatedResources',
    delta: 'DeltaAggregatedResources',
  },
  {
    path: 'envoy.service.cluster.v3.ClusterDiscoveryService',
    api: 'cds',
    typeUrl: TypeUrl.Cluster,
    sotw: 'StreamClusters',
    delta: 'DeltaClusters',
  },
  {
    path: 'envoy.service.endpoint.v3.EndpointDiscoveryService',
    api: 'eds',
    typeUrl: TypeUrl.ClusterLoadAssignment,
    sotw: 'StreamEndpoints',
    delta: 'DeltaEndpoints',
  },
  {
    path: 'envoy.service.listener.v3.ListenerDiscoveryService',
    api: 'lds',
    typeUrl: TypeUrl.Listener,
    sotw: 'StreamListeners',
    delta: 'DeltaListeners',
  },
  {
    path: 'envoy.service.route.v3.RouteDiscoveryService',
    api: 'rds',
    typeUrl: TypeUrl.RouteConfiguration,
    sotw: 'StreamRoutes',
    delta: 'DeltaRoutes',
  },
];

/**
 * The service definition with responses passed through as already-encoded bytes (responses are
 * assembled from shared pre-encoded resources, see serializeResponse); requests are decoded by
 * proto-loader as usual.
 */
function preEncodedResponses(def: grpc.ServiceDefinition, sotwMethod: string): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(def)) {
    const sotw = name === sotwMethod || method.originalName === sotwMethod || method.path.endsWith(`/${sotwMethod}`);
    out[name] = {
      ...method,
      responseSerialize: (b: unknown) => serializeResponse(b as ResponseBytes),
      ...(sotw ? { requestDeserialize: deserializeDiscoveryRequest } : {}),
    };
  }
  return out as grpc.ServiceDefinition;
}

/** ADS (SotW + Delta) and the four per-type discovery services over one XdsCache. */
export class XdsServer {
  private readonly streams = new Map<number, XdsStream>();
  private nextId = 1;
  private readonly ctx: StreamContext;
  private readonly flow: FlowControl;

  constructor(opts: XdsServerOptions) {
    this.ctx = {
      cache: opts.cache,
      log: opts.log,
      metrics: opts.metrics,
      nowMs: opts.nowMs ?? Date.now,
      changeOriginMs: opts.changeOriginMs ?? (() => undefined),
      unknownKey: opts.unknownKey,
      ...(opts.variantOf ? { variantOf: opts.variantOf } : {}),
      flow: (this.flow = new FlowControl(opts.flowLimits)),
      onClose: (s) => this.streams.delete(s.id),
      limits: { ...DEFAULT_REQUEST_LIMITS, ...opts.limits },
      sotwResponses: new SharedSotwResponses(),
      ...(opts.authorizer ? { authorizer: opts.authorizer } : {}),
    };
  }

  register(server: GrpcServiceHost): void {
    const protos = envoyProtos();
    for (const spec of SERVICES) {
      const ctor = grpcLookup<grpc.ServiceClientConstructor>(protos.grpc, spec.path);
      const impl: Record<string, MethodImpl> = {
        [spec.sotw]: (call) => this.open(call, spec, 'sotw'),
        [spec.delta]: (call) => this.open(call, spec, 'delta'),
      };
      server.addService(preEncodedResponses(ctor.service, spec.sotw), impl as unknown as grpc.UntypedServiceImplementation);
    }
  }

  private open(call: grpc.ServerDuplexStream<unknown, ResponseBytes>, spec: ServiceSpec, flavor: Flavor): void {
    const id = this.nextId++;
    const Stream = flavor === 'sotw' ? SotwStream : DeltaStream;
    const stream = new Stream(this.ctx, call, id, spec.api, flavor, spec.typeUrl);
    this.streams.set(id, stream);
  }

  /** Open streams, response bytes handed to gRPC but not yet flushed, and streams held back by flow control. */
  stats(): XdsServerStats {
    return { streams: this.streams.size, outstandingBytes: this.flow.outstandingBytes, waitingStreams: this.flow.waitingCount };
  }

  clients(): ClientInfo[] {
    return [...this.streams.values()].map((s) => ({
      streamId: s.id,
      peer: s.peer,
      nodeId: s.nodeId ?? null,
      gatewayNode: s.gatewayNode ?? null,
      unknownNode: s.unknownNode,
      variant: s.variant ?? null,
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
        deferred: s.isDeferred(t),
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
