import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../log.js';
import { diffResources, isEmptyDiff, type ResourceDiff, type TypeView } from '../cache/diff.js';
import { ALL_TYPES, PUSH_ORDER, type CacheChange, type CacheWatch, type XdsCache } from '../cache/snapshot-cache.js';
import { streamTypeMetrics, typeLabel, type MalformedReason, type XdsMetrics } from '../metrics.js';
import { TypeUrl } from '../resources/types.js';
import type { FlowControl, FlowParticipant } from './flow.js';
import { TypeState, type NackRecord } from './type-state.js';
import type { NodeAuthorizer } from '../../tls/authorizer.js';
import { gatewayNodeOf, type NodeMessage } from '../../model/gateway-identity.js';
import type { SharedSotwResponses } from './shared-responses.js';
import type { ResponseBytes } from './wire.js';

/** Bounds on what one xDS request may carry. */
export interface RequestLimits {
  /** Resource names one type of one stream may subscribe to. */
  readonly maxResourceNames: number;
  /** Longest node id, gateway node or resource name. */
  readonly maxNameLength: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = Object.freeze({ maxResourceNames: 10_000, maxNameLength: 253 });

export type { NodeMessage } from '../../model/gateway-identity.js';

export interface RequestCommon {
  readonly node?: NodeMessage | null;
  readonly type_url?: string;
  readonly response_nonce?: string;
  readonly error_detail?: { readonly code?: number; readonly message?: string } | null;
}

export type Flavor = 'sotw' | 'delta';
/** Which gRPC service the stream came in on: ADS or one per-type service. */
export type ApiName = 'ads' | 'cds' | 'eds' | 'lds' | 'rds';

export interface StreamContext {
  readonly cache: XdsCache;
  readonly log: Logger;
  readonly metrics: XdsMetrics;
  readonly nowMs: () => number;
  /** When the change being published started (model/assignment change), for push latency. */
  readonly changeOriginMs: () => number | undefined;
  /** The cache key unknown gateway nodes map to. */
  readonly unknownKey: string;
  /** The variant of the shared resources a client sees, decided once from its first Node. */
  readonly variantOf?: (node: NodeMessage, gatewayNode: string) => string | undefined;
  readonly flow: FlowControl;
  readonly onClose: (stream: XdsStream) => void;
  readonly limits: RequestLimits;
  /** With mutual TLS: the gateway node must be the one the client certificate names. */
  readonly authorizer?: NodeAuthorizer;
  /** SotW responses many streams send byte for byte, encoded once (see SharedSotwResponses). */
  readonly sotwResponses?: SharedSotwResponses;
}

interface NamedRequest extends RequestCommon {
  readonly resource_names?: readonly string[];
  /** Set by the SotW parser (request.ts): resource_names' count and longest UTF-8 length. */
  readonly nameCount?: number;
  readonly longestNameBytes?: number;
  readonly resource_names_subscribe?: readonly string[];
  readonly initial_resource_versions?: Readonly<Record<string, string>>;
}

export interface SendOptions {
  /** Respond even when nothing differs (first request of a wildcard or full-state type). */
  readonly force?: boolean;
}

/**
 * One xDS stream: node identity, per-type state, nonces, the cache watch and make-before-break
 * pushes. SotW and Delta subclasses only parse requests and frame responses; both decide what
 * to send with the same diff against the same per-type state.
 */
export abstract class XdsStream implements FlowParticipant {
  outstandingBytes = 0;
  /** Types with a push held back by flow control (and whether it must be sent even if empty). */
  private readonly deferred = new Map<TypeState, boolean>();
  private deferredOriginMs: number | undefined;
  private resumingOriginMs: number | undefined;
  nodeId: string | undefined;
  gatewayNode: string | undefined;
  userAgent: string | undefined;
  readonly connectedAtMs: number;
  protected readonly types = new Map<string, TypeState>();
  private watchHandle: CacheWatch | undefined;
  private countedUnknown = false;
  private nonceSeq = 0;
  private closed = false;
  protected readonly log: Logger;

  constructor(
    protected readonly ctx: StreamContext,
    protected readonly call: grpc.ServerDuplexStream<unknown, ResponseBytes>,
    readonly id: number,
    readonly api: ApiName,
    readonly flavor: Flavor,
    /** The type of a per-type service; undefined on ADS. */
    readonly fixedType: TypeUrl | undefined,
  ) {
    this.connectedAtMs = ctx.nowMs();
    this.log = ctx.log.child({ stream: id, api, flavor });
    ctx.metrics.streams.inc({ api, flavor });
    call.on('data', (req: unknown) => this.onData(req as RequestCommon | { malformed: string }));
    call.on('end', () => this.close());
    call.on('error', (err: Error) => {
      this.log.debug({ err: err.message }, 'xDS stream error');
      this.close();
    });
    call.on('cancelled', () => this.close());
    call.on('close', () => this.close());
  }

  get peer(): string {
    return this.call.getPeer();
  }

  get cacheKey(): string | undefined {
    return this.watchHandle?.key;
  }

  get variant(): string | undefined {
    return this.watchHandle?.variant;
  }

  get unknownNode(): boolean {
    return this.watchHandle !== undefined && this.watchHandle.key === this.ctx.unknownKey && this.gatewayNode !== this.ctx.unknownKey;
  }

  isDeferred(state: TypeState): boolean {
    return this.deferred.has(state);
  }

  typeStates(): ReadonlyMap<string, TypeState> {
    return this.types;
  }

  /** Parse one request of this flavor for `state`. */
  protected abstract handle(state: TypeState, req: RequestCommon): void;
  /** Apply a diff to `state` and write a response if the flavor needs one. */
  protected abstract send(state: TypeState, diff: ResourceDiff, opts?: SendOptions): void;

  protected view(typeUrl: string): TypeView {
    return this.ctx.cache.view(typeUrl as TypeUrl, this.watchHandle!.key, this.watchHandle!.variant);
  }

  protected nextNonce(): string {
    return (++this.nonceSeq).toString(36);
  }

  /** True when `nonce` looks like one this stream issued (then it is stale, not bogus). */
  protected issued(nonce: string): boolean {
    const n = parseInt(nonce, 36);
    return /^[0-9a-z]+$/.test(nonce) && n >= 1 && n <= this.nonceSeq;
  }

  protected malformed(reason: MalformedReason, detail: Record<string, unknown>): void {
    this.ctx.metrics.malformed.inc({ reason });
    this.log.debug({ reason, ...detail }, 'xDS request ignored');
  }

  protected recordAck(state: TypeState, version: string): void {
    state.versionAcked = version;
    state.acks++;
    this.ctx.metrics.acks.inc({ type: typeLabel(state.typeUrl) });
  }

  protected recordNack(state: TypeState, nonce: string, version: string, message: string): void {
    const nack: NackRecord = { version, nonce, message, atMs: this.ctx.nowMs() };
    state.lastNack = nack;
    state.nacks++;
    this.ctx.metrics.nacks.inc({ type: typeLabel(state.typeUrl) });
    this.log.warn(
      { node: this.gatewayNode, nodeId: this.nodeId, type: typeLabel(state.typeUrl), version, message },
      'xDS client rejected config (NACK); not resending until it changes',
    );
  }

  protected write(typeUrl: string, bytes: ResponseBytes): void {
    if (this.closed) return;
    this.call.write(bytes, this.ctx.flow.track(this, bytes.byteLength));
    const m = streamTypeMetrics(this.ctx.metrics, this.flavor, typeUrl);
    m.responses.inc();
    m.bytes.inc(bytes.byteLength);
    const origin = this.ctx.changeOriginMs() ?? this.resumingOriginMs;
    if (origin !== undefined) m.latency.observe(Math.max(0, this.ctx.nowMs() - origin) / 1000);
  }

  /** End the stream with a status; never throws. */
  protected fail(code: grpc.status, message: string): void {
    if (this.closed) return;
    this.log.warn({ code, message }, 'ending xDS stream');
    try {
      this.call.emit('error', { code, details: message, metadata: new grpc.Metadata() } as grpc.ServiceError);
    } catch {
      /* the call may already be gone */
    }
    this.close();
  }

  private onData(req: RequestCommon | { malformed: string }): void {
    if (this.closed) return;
    if ('malformed' in req) {
      this.ctx.metrics.malformed.inc({ reason: 'bad_request' });
      this.fail(grpc.status.INVALID_ARGUMENT, `cannot decode DiscoveryRequest: ${req.malformed}`);
      return;
    }
    try {
      if (!this.identify(req)) return;
      let typeUrl = req.type_url ?? '';
      if (this.fixedType) {
        if (typeUrl === '') typeUrl = this.fixedType;
        if (typeUrl !== this.fixedType) {
          this.ctx.metrics.malformed.inc({ reason: 'type_url_mismatch' });
          this.fail(
            grpc.status.INVALID_ARGUMENT,
            `type_url "${typeUrl}" cannot be served on the ${this.api.toUpperCase()} service (expects ${this.fixedType})`,
          );
          return;
        }
      } else if (!ALL_TYPES.has(typeUrl)) {
        // Unknown types (SDS, RTDS, …) are ignored rather than fatal: the rest of ADS keeps working.
        this.malformed('unknown_type_url', { typeUrl });
        return;
      }
      let state = this.types.get(typeUrl);
      if (!this.withinLimits(req as NamedRequest, state)) return;
      if (!state) this.types.set(typeUrl, (state = new TypeState(typeUrl)));
      this.handle(state, req);
    } catch (err) {
      this.ctx.metrics.malformed.inc({ reason: 'bad_request' });
      this.log.error({ err }, 'xDS request handling failed');
      this.fail(grpc.status.INTERNAL, `request handling failed: ${(err as Error).message}`);
    }
  }

  /** Refuse (and end the stream) a request naming too many resources or an over-long name. */
  private withinLimits(req: NamedRequest, state: TypeState | undefined): boolean {
    const { maxResourceNames, maxNameLength } = this.ctx.limits;
    // A SotW ACK repeats every name: checked from the parser's count and longest UTF-8 length (never
    // shorter than the string), so an unchanged list is not turned into 1,000 strings just to be measured.
    const counted = req.nameCount !== undefined && req.longestNameBytes !== undefined && req.longestNameBytes <= maxNameLength;
    const names = counted ? [] : (req.resource_names ?? req.resource_names_subscribe ?? []);
    const nameCount = counted ? req.nameCount! : names.length;
    const initial = req.initial_resource_versions ? Object.keys(req.initial_resource_versions) : [];
    const held = req.resource_names_subscribe ? (state?.names.size ?? 0) : 0;
    if (nameCount + held > maxResourceNames || initial.length > maxResourceNames) {
      this.ctx.metrics.malformed.inc({ reason: 'too_many_names' });
      this.fail(
        grpc.status.RESOURCE_EXHAUSTED,
        `a stream may subscribe to at most ${maxResourceNames} resources of a type (--max-resource-names); this request names ${nameCount + held}`,
      );
      return false;
    }
    for (const list of [names, initial])
      for (const n of list)
        if (n.length > maxNameLength) {
          this.ctx.metrics.malformed.inc({ reason: 'name_too_long' });
          this.fail(
            grpc.status.INVALID_ARGUMENT,
            `a resource name is ${n.length} characters long; at most ${maxNameLength} (--max-name-length)`,
          );
          return false;
        }
    return true;
  }

  /** Cache the node from the first request; the first request must carry one. */
  private identify(req: RequestCommon): boolean {
    if (this.watchHandle) return true;
    const node = req.node;
    const gateway = gatewayNodeOf(node) ?? '';
    if (!node || gateway === '') {
      this.ctx.metrics.malformed.inc({ reason: 'missing_node' });
      this.fail(grpc.status.INVALID_ARGUMENT, 'the first request on an xDS stream must carry node with id (or locality.sub_zone)');
      return false;
    }
    const longest = Math.max(gateway.length, node.id?.length ?? 0);
    if (longest > this.ctx.limits.maxNameLength) {
      this.ctx.metrics.malformed.inc({ reason: 'name_too_long' });
      this.fail(
        grpc.status.INVALID_ARGUMENT,
        `node id or locality.sub_zone is ${longest} characters long; at most ${this.ctx.limits.maxNameLength} (--max-name-length)`,
      );
      return false;
    }
    const auth = this.ctx.authorizer?.check(this.call, gateway, 'xds');
    if (auth && !auth.ok) {
      this.ctx.metrics.malformed.inc({ reason: 'identity_refused' });
      this.fail(grpc.status.PERMISSION_DENIED, `xDS stream for node "${gateway}" refused: ${auth.message}`);
      return false;
    }
    this.nodeId = node.id ?? '';
    this.gatewayNode = gateway;
    this.userAgent = node.user_agent_name;
    const variant = this.ctx.variantOf?.(node, gateway);
    this.watchHandle = this.ctx.cache.watch(gateway, (change) => this.onCacheChange(change), variant);
    if (this.unknownNode) {
      this.countedUnknown = true;
      this.ctx.metrics.unknownNodeStreams.inc();
      this.ctx.metrics.unknownNodeStreamsTotal.inc();
      this.log.warn({ node: gateway, nodeId: this.nodeId }, 'xDS client on a node the model does not know; serving the even assignment');
    }
    this.log.debug({ node: gateway, nodeId: this.nodeId, peer: this.peer, variant }, 'xDS stream identified');
    return true;
  }

  /** Recompute what the client should hold for `state` and send the difference. */
  protected resync(state: TypeState, opts?: SendOptions): void {
    if (this.defer([state], opts?.force === true)) return;
    const diff = diffResources(state, this.view(state.typeUrl), state.held);
    this.send(state, diff, opts);
  }

  /** Hold pushes back while flow control says this stream (or the server) has too much in flight. */
  private defer(states: Iterable<TypeState>, force = false): boolean {
    if (this.deferred.size === 0 && !this.ctx.flow.blocked(this)) return false;
    for (const s of states) this.deferred.set(s, force || (this.deferred.get(s) ?? false));
    const origin = this.ctx.changeOriginMs();
    if (origin !== undefined) this.deferredOriginMs = Math.min(this.deferredOriginMs ?? origin, origin);
    this.ctx.flow.wait(this);
    return true;
  }

  resume(): void {
    if (this.closed) return;
    const due = this.deferred;
    const diffs: Array<[TypeState, ResourceDiff, SendOptions?]> = [];
    for (const typeUrl of PUSH_ORDER) {
      for (const [state, force] of due) {
        if (state.typeUrl !== typeUrl) continue;
        const diff = diffResources(state, this.view(typeUrl), state.held);
        if (force || !isEmptyDiff(diff)) diffs.push([state, diff, { force }]);
      }
    }
    due.clear();
    this.resumingOriginMs = this.deferredOriginMs;
    this.deferredOriginMs = undefined;
    try {
      this.pushInOrder(diffs);
    } finally {
      this.resumingOriginMs = undefined;
    }
  }

  private onCacheChange(change: CacheChange): void {
    if (this.closed) return;
    const touched: TypeState[] = [];
    for (const typeUrl of PUSH_ORDER) {
      const state = this.types.get(typeUrl);
      if (change.has(typeUrl) && state?.requested) touched.push(state);
    }
    if (touched.length === 0 || this.defer(touched)) return;
    const diffs: Array<[TypeState, ResourceDiff]> = [];
    for (const typeUrl of PUSH_ORDER) {
      const names = change.get(typeUrl);
      const state = this.types.get(typeUrl);
      if (!names || !state || !state.requested) continue;
      const diff = diffResources(state, this.view(typeUrl), state.held, names);
      if (!isEmptyDiff(diff)) diffs.push([state, diff]);
    }
    this.pushInOrder(diffs);
  }

  /**
   * Make-before-break: diffs arrive in CDS, EDS, LDS, RDS order; when other types also bring new
   * content, deletions of clusters and their endpoints are held back and sent last, so nothing a
   * new listener or route needs disappears before it arrives.
   */
  private pushInOrder(diffs: Array<[TypeState, ResourceDiff, SendOptions?]>): void {
    const othersGrow = diffs.some(([s, d]) => s.typeUrl !== TypeUrl.Cluster && d.upserts.length > 0);
    const deferred: Array<[TypeState, ResourceDiff]> = [];
    for (const [state, diff, opts] of diffs) {
      const deferrable = state.typeUrl === TypeUrl.Cluster || state.typeUrl === TypeUrl.ClusterLoadAssignment;
      if (deferrable && othersGrow && diff.removed.length > 0) {
        this.send(state, { upserts: diff.upserts, removed: [], dropped: diff.dropped });
        deferred.push([state, { upserts: [], removed: diff.removed, dropped: [] }]);
      } else {
        this.send(state, diff, opts);
      }
    }
    for (const [state, diff] of deferred) this.send(state, diff);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.countedUnknown) this.ctx.metrics.unknownNodeStreams.dec();
    this.ctx.flow.forget(this);
    this.watchHandle?.cancel();
    this.ctx.metrics.streams.dec({ api: this.api, flavor: this.flavor });
    this.ctx.onClose(this);
    try {
      this.call.end();
    } catch {
      /* already ended */
    }
  }
}
