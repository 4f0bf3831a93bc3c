import type { GrpcServiceHost } from '../net/grpc-h2-services.js';
import type { Registry } from 'prom-client';
import { UNKNOWN_GATEWAY, type AssignmentEngine } from '../engine/assignments.js';
import { DEFAULT_TICK, ReconcileTick, type TickOptions } from '../engine/tick.js';
import type { Logger } from '../log.js';
import type { ModelStore } from '../model/store.js';
import type { TlsSecretStore } from '../model/tls-secrets.js';
import type { NodeAuthorizer } from '../tls/authorizer.js';
import { XdsCache } from './cache/snapshot-cache.js';
import { createXdsMetrics, typeLabel, type XdsMetrics } from './metrics.js';
import { DEFAULT_EXTPROC_ADDRESS, parseExtprocAddress } from './resources/extproc.js';
import { buildEndpoints as defaultBuildEndpoints, buildShared as defaultBuildShared } from './resources/index.js';
import { DEFAULT_BUILD_OPTIONS, TypeUrl, type BuildOptions, type ResourceBuilders } from './resources/types.js';
import type { RequestLimits } from './server/stream.js';
import { XdsServer, type ClientInfo, type XdsServerStats } from './server/xds-server.js';
import { buildSnapshot, type SnapshotInput } from './snapshot/build.js';
import { pickingSkippable } from '../extproc/picking-gate.js';
import { extprocVariantOf } from './snapshot/variants.js';

export { EXTPROC_VARIANT_PREFIX, extprocVariantOf } from './snapshot/variants.js';
export type { ClientInfo, ClientTypeInfo, XdsServerStats } from './server/xds-server.js';

export interface XdsControlPlaneOptions {
  readonly store: ModelStore;
  readonly engine: AssignmentEngine;
  readonly log: Logger;
  readonly registry: Registry;
  readonly buildOptions?: BuildOptions;
  readonly nowMs?: () => number;
  /** Resource builders (default: src/xds/resources). */
  readonly builders?: ResourceBuilders;
  /** Metrics to use instead of creating them in `registry` (when several planes share one). */
  readonly metrics?: XdsMetrics;
  /** Bounds on xDS requests (default DEFAULT_REQUEST_LIMITS). */
  readonly requestLimits?: Partial<RequestLimits>;
  /** With mutual TLS: binds each stream's gateway node to its client certificate. */
  readonly authorizer?: NodeAuthorizer;
  /** When to reconcile after a change (default DEFAULT_TICK). */
  readonly tick?: TickOptions;
  /** Certificates served over SDS: only those the gateway listeners name (spec.tls, default, cluster cert). */
  readonly tlsSecrets?: TlsSecretStore;
}

const RESOURCE_TYPES = [
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Secret,
] as const;

/**
 * The reconcile loop: model store → policy engine → snapshot → cache, one tick at a time. A model
 * change (or engine work) requests the tick; the tick lets the engine recompute what is dirty, builds
 * the next snapshot from the model, the assignments and the previous snapshot, and publishes it.
 * Nothing else builds or publishes, and the cache never calls back: a gateway on a node the snapshot
 * knows reads its own endpoints, any other the unknown-node key's.
 */
export class XdsControlPlane {
  readonly cache: XdsCache;
  readonly metrics: XdsMetrics;
  private readonly server: XdsServer;
  private readonly store: ModelStore;
  private readonly engine: AssignmentEngine;
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private readonly input: SnapshotInput;
  private readonly tick: ReconcileTick;
  private readonly unsubscribe: Array<() => void> = [];
  /** When the oldest change not yet published happened (for push latency). */
  private originMs: number | undefined;
  private publishingOriginMs: number | undefined;
  private built = false;
  private closed = false;

  constructor(options: XdsControlPlaneOptions) {
    this.store = options.store;
    this.engine = options.engine;
    this.log = options.log.child({ component: 'xds' });
    this.nowMs = options.nowMs ?? Date.now;
    this.metrics = options.metrics ?? createXdsMetrics(options.registry);
    const buildOptions = options.buildOptions ?? DEFAULT_BUILD_OPTIONS;
    const engine = this.engine;
    this.input = {
      store: this.store,
      assignments: (service) => engine.forService(service),
      unknownKey: UNKNOWN_GATEWAY,
      builders: options.builders ?? { buildShared: defaultBuildShared, buildEndpoints: defaultBuildEndpoints },
      options: buildOptions,
      extprocAddress: parseExtprocAddress(buildOptions.extprocAddress ?? DEFAULT_EXTPROC_ADDRESS),
      pickingSkippable: () => !buildOptions.extprocAlways && pickingSkippable(engine.policy),
      nowMs: this.nowMs,
      ...(options.tlsSecrets ? { tlsSecrets: options.tlsSecrets } : {}),
    };
    this.cache = new XdsCache({ log: this.log, unknownKey: UNKNOWN_GATEWAY });
    this.server = new XdsServer({
      cache: this.cache,
      log: this.log,
      metrics: this.metrics,
      nowMs: this.nowMs,
      changeOriginMs: () => this.publishingOriginMs,
      unknownKey: UNKNOWN_GATEWAY,
      variantOf: extprocVariantOf,
      ...(options.requestLimits ? { limits: options.requestLimits } : {}),
      ...(options.authorizer ? { authorizer: options.authorizer } : {}),
    });
    this.tick = new ReconcileTick(options.tick ?? DEFAULT_TICK, {
      run: () => this.reconcile(),
      notBeforeMs: () => this.engine.notBeforeMs(),
    });
    this.engine.driveBy(() => this.request());
    this.unsubscribe.push(this.store.onChange(() => this.request()));
    if (options.tlsSecrets) this.unsubscribe.push(options.tlsSecrets.onChange(() => this.request()));
    // The first snapshot is built before any stream can read the cache: no gateway sees an empty one.
    this.reconcile();
  }

  /** Register ADS and the per-type discovery services on `server`. */
  register(server: GrpcServiceHost): void {
    this.server.register(server);
  }

  clients(): ClientInfo[] {
    return this.server.clients();
  }

  stats(): XdsServerStats {
    return this.server.stats();
  }

  /** True once the initial snapshot is built. */
  ready(): boolean {
    return this.built && !this.closed;
  }

  /**
   * True when the cache serves everything the model holds: no change waits for the next tick. A
   * gateway's ACK means "programmed" only then (KIngress readiness).
   */
  settled(): boolean {
    return this.ready() && !this.tick.pending;
  }

  /** Consistency errors of the last published snapshot (for /debug). */
  consistencyErrors(): readonly string[] {
    return this.cache.consistencyErrors();
  }

  /** Reconcile now instead of at the next tick (tests, benchmarks). */
  flush(): void {
    this.tick.runNow();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tick.close();
    for (const u of this.unsubscribe) u();
    this.server.close();
  }

  private request(): void {
    if (this.closed) return;
    this.originMs ??= this.nowMs();
    this.tick.request();
  }

  /** One tick: recompute what is dirty, build the next snapshot, publish it. */
  private reconcile(): void {
    if (this.closed) return;
    const started = performance.now();
    this.publishingOriginMs = this.originMs;
    this.originMs = undefined;
    try {
      this.engine.flush();
      const previous = this.cache.snapshot();
      const next = buildSnapshot(this.input, this.built ? previous : undefined);
      for (const e of next.buildErrors) {
        this.metrics.buildErrors.inc({ type: typeLabel(e.typeUrl) });
        this.log.error({ err: e.message, name: e.name }, 'cannot build xDS resource; keeping the last good one');
      }
      if (next.version !== previous.version || !this.built) {
        if (next.errors.length > 0) this.metrics.consistencyErrors.inc(next.errors.length);
        this.cache.publish(next);
        this.metrics.rebuildSeconds.observe({ kind: this.built ? 'incremental' : 'full' }, (performance.now() - started) / 1000);
        for (const t of RESOURCE_TYPES) this.metrics.resources.set({ type: typeLabel(t) }, this.cache.size(t));
      }
      this.built = true;
    } catch (err) {
      this.log.error({ err }, 'xDS rebuild failed; keeping the last published snapshot');
    } finally {
      this.publishingOriginMs = undefined;
    }
  }
}
