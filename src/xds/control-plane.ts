import type * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { UNKNOWN_GATEWAY, type AssignmentChange, type AssignmentEngine } from '../engine/assignments.js';
import type { Logger } from '../log.js';
import type { ModelChange, ModelStore } from '../model/store.js';
import type { GatewayAssignment } from '../policy/types.js';
import { encodeResource, ResourceEncodeError } from './cache/encoded.js';
import { referencesOf } from './cache/references.js';
import { XdsCache, type CachedResource } from './cache/snapshot-cache.js';
import { createXdsMetrics, typeLabel, type XdsMetrics } from './metrics.js';
import {
  buildExtprocClusters,
  DEFAULT_EXTPROC_ADDRESS,
  extprocOptedIn,
  parseExtprocAddress,
  withExtprocListener,
  withPickedRoute,
  type ExtprocAddress,
} from './resources/extproc.js';
import { buildCluster, buildEndpoints as defaultBuildEndpoints, buildShared as defaultBuildShared } from './resources/index.js';
import { DEFAULT_BUILD_OPTIONS, TypeUrl, type BuildOptions, type ProtoResource, type ResourceBuilders } from './resources/types.js';
import type { NodeMessage, RequestLimits } from './server/stream.js';
import type { NodeAuthorizer } from '../tls/authorizer.js';
import { XdsServer, type ClientInfo, type XdsServerStats } from './server/xds-server.js';
import type { TlsSecretStore } from '../model/tls-secrets.js';
import { buildSdsSecret } from './resources/secrets.js';
import { referencedSecrets } from './resources/tls.js';

/** Variant of the gateway resources served to Envoy gateways that opt into ext_proc picking. */
export const EXTPROC_VARIANT_PREFIX = 'extproc:';

/** The variant a client sees: ext_proc picking per gateway node when its Node metadata opts in. */
export function extprocVariantOf(node: NodeMessage, gatewayNode: string): string | undefined {
  return extprocOptedIn(node.metadata) ? `${EXTPROC_VARIANT_PREFIX}${gatewayNode}` : undefined;
}

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
  /** Certificates served over SDS: only those the gateway listeners name (spec.tls, default, cluster cert). */
  readonly tlsSecrets?: TlsSecretStore;
}

const SHARED_KINDS = [TypeUrl.Listener, TypeUrl.RouteConfiguration, TypeUrl.Cluster] as const;

/** Localities as a string: gateways with equal assignments share one encoded ClusterLoadAssignment. */
function assignmentSignature(a: GatewayAssignment | undefined): string {
  if (!a) return '';
  // The engine interns equal locality arrays, so most gateways share one array and one signature.
  let s = signatures.get(a.localities);
  if (s === undefined) {
    s = '';
    for (const l of a.localities) s += `${l.node}\u0000${l.priority}\u0000${l.weight}\u0001`;
    signatures.set(a.localities, s);
  }
  return s;
}
const signatures = new WeakMap<readonly GatewayAssignment['localities'][number][], string>();

function nodeSignature(store: ModelStore): string {
  return JSON.stringify(store.nodes().map((n) => [n.name, n.zone, n.region, n.ready]));
}

/**
 * Wires the model and the assignment engine into the xDS cache and serves it. Model changes mark
 * work dirty; one flush per tick (after the engine recomputed) rebuilds only what changed: clusters
 * of changed services, listeners/routes when the routes changed, and EDS of changed services for
 * every gateway key that has streams (plus '*', the unknown-node key, always kept).
 */
export class XdsControlPlane {
  readonly cache: XdsCache;
  readonly metrics: XdsMetrics;
  private readonly server: XdsServer;
  private readonly store: ModelStore;
  private readonly engine: AssignmentEngine;
  private readonly log: Logger;
  private readonly opts: BuildOptions;
  private readonly builders: ResourceBuilders;
  private readonly nowMs: () => number;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly clusters = new Map<string, CachedResource>();
  /** Per service: assignment signature → encoded EDS, shared by every key with that assignment. */
  private readonly edsMemo = new Map<string, Map<string, CachedResource | undefined>>();
  private sharedRest = new Map<string, CachedResource>();
  private readonly extprocAddress: ExtprocAddress;
  /** The plain gateway listeners of the last build: the ext_proc variants are derived from them. */
  private gatewayListeners: readonly ProtoResource[] = [];
  /** ext_proc variant: route configurations (shared by every opted-in node) and the two clusters. */
  private extprocRoutes = new Map<string, CachedResource>();
  private extprocClusters: CachedResource[] | undefined;
  /** ext_proc variant listeners per variant (gateway node): x-proxima-node is set per node. */
  private readonly variantListeners = new Map<string, CachedResource[]>();
  private routesSignature: string | undefined;
  private nodesSignature: string | undefined;
  private dirtyServices = new Set<string>();
  private dirtyAllClusters = false;
  private dirtyRoutes = false;
  private dirtyAllEndpoints = false;
  private dirtySecrets = true;
  /** SDS resources by secret name (only referenced, existing ones). */
  private secrets = new Map<string, CachedResource>();
  private readonly tlsSecrets: TlsSecretStore | undefined;
  private originMs: number | undefined;
  private publishingOriginMs: number | undefined;
  private scheduled = false;
  private flushing = false;
  private built = false;
  private closed = false;

  constructor(options: XdsControlPlaneOptions) {
    this.store = options.store;
    this.engine = options.engine;
    this.log = options.log.child({ component: 'xds' });
    this.opts = options.buildOptions ?? DEFAULT_BUILD_OPTIONS;
    this.extprocAddress = parseExtprocAddress(this.opts.extprocAddress ?? DEFAULT_EXTPROC_ADDRESS);
    this.builders = options.builders ?? { buildShared: defaultBuildShared, buildEndpoints: defaultBuildEndpoints };
    this.nowMs = options.nowMs ?? Date.now;
    this.metrics = options.metrics ?? createXdsMetrics(options.registry);
    this.cache = new XdsCache({
      log: this.log,
      nodeKey: (g) => (this.store.hasNode(g) ? g : UNKNOWN_GATEWAY),
      onKeyDemand: (key) => this.buildKey(key),
      onInconsistency: (errors) => this.metrics.consistencyErrors.inc(errors.length),
      pinnedKeys: [UNKNOWN_GATEWAY],
      onVariantDemand: (variant) => this.buildVariant(variant),
      onVariantIdle: (variant) => this.variantListeners.delete(variant),
    });
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
    this.tlsSecrets = options.tlsSecrets;
    if (this.tlsSecrets)
      this.unsubscribe.push(
        this.tlsSecrets.onChange(() => {
          this.dirtySecrets = true;
          this.schedule();
        }),
      );
    this.unsubscribe.push(this.store.onChange((c) => this.onModelChange(c)));
    this.unsubscribe.push(this.engine.onChange((c) => this.onAssignmentChange(c)));
    this.dirtyAllClusters = true;
    this.dirtyRoutes = true;
    this.dirtyAllEndpoints = true;
    this.flush();
  }

  /** Register ADS and the per-type discovery services on `server`. */
  register(server: grpc.Server): void {
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

  /** Consistency errors of the last published snapshot (for /debug). */
  consistencyErrors(): readonly string[] {
    return this.cache.consistencyErrors();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.unsubscribe) u();
    this.server.close();
  }

  private onModelChange(c: ModelChange): void {
    if (this.closed) return;
    this.originMs ??= this.nowMs();
    if (c.global) {
      const sig = nodeSignature(this.store);
      // Node zone/region/readiness shape every ClusterLoadAssignment; RTT alone only moves
      // assignments, which the engine reports per service.
      if (sig !== this.nodesSignature) {
        this.dirtyAllEndpoints = true;
        this.cache.rekeyAll();
      }
    }
    for (const s of c.services) this.dirtyServices.add(s);
    if (c.routes) this.dirtyRoutes = true;
    this.schedule();
  }

  private onAssignmentChange(c: AssignmentChange): void {
    if (this.closed) return;
    this.originMs ??= this.nowMs();
    for (const s of c.services) this.dirtyServices.add(s);
    this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Rebuild everything dirty and publish it in one cache transaction. Re-entrant calls only mark. */
  private flush(): void {
    if (this.flushing || this.closed) return;
    this.flushing = true;
    try {
      // Let the engine settle first, so a model change is published once, with its new assignment.
      this.engine.flush();
      const services = this.dirtyServices;
      const allEndpoints = this.dirtyAllEndpoints;
      const allClusters = this.dirtyAllClusters;
      const routes = this.dirtyRoutes;
      const secrets = this.dirtySecrets || routes;
      if (!allEndpoints && !allClusters && !routes && !secrets && services.size === 0) return;
      this.dirtySecrets = false;
      this.dirtyServices = new Set();
      this.dirtyAllEndpoints = this.dirtyAllClusters = this.dirtyRoutes = false;
      this.publishingOriginMs = this.originMs;
      this.originMs = undefined;
      const started = performance.now();
      if (allEndpoints) this.nodesSignature = nodeSignature(this.store);
      const edsServices = allEndpoints ? this.allServiceNames() : services;
      this.cache.update((tx) => {
        const clustersChanged = this.rebuildClusters(allClusters ? undefined : services);
        const restChanged = this.rebuildListenersAndRoutes(routes || allClusters);
        if (clustersChanged) tx.setShared(TypeUrl.Cluster, [...this.clusters.values()]);
        if (secrets && this.rebuildSecrets()) tx.setShared(TypeUrl.Secret, [...this.secrets.values()]);
        if (restChanged) {
          const byType = (t: TypeUrl) => [...this.sharedRest.values()].filter((c) => c.resource.typeUrl === t);
          tx.setShared(TypeUrl.Listener, byType(TypeUrl.Listener), this.gatewayListenerNames);
          tx.setShared(TypeUrl.RouteConfiguration, byType(TypeUrl.RouteConfiguration));
          for (const variant of this.cache.watchedVariants()) tx.setVariant(variant, this.variantResources(variant, true));
        }
        const keys = new Set([UNKNOWN_GATEWAY, ...this.cache.watchedKeys(), ...this.cache.endpointKeys()]);
        for (const [key, list] of this.buildEndpointsFor(edsServices, keys, true))
          tx.setEndpoints(key, list.resources, { remove: list.removed });
      });
      this.metrics.rebuildSeconds.observe(
        { kind: allEndpoints || allClusters ? 'full' : 'incremental' },
        (performance.now() - started) / 1000,
      );
      this.updateResourceGauges();
      this.built = true;
    } catch (err) {
      this.log.error({ err }, 'xDS rebuild failed; keeping the last published snapshot');
    } finally {
      this.publishingOriginMs = undefined;
      this.flushing = false;
    }
  }

  private gatewayListenerNames: ReadonlySet<string> = new Set();

  private allServiceNames(): Set<string> {
    const names = new Set(this.store.services().map((s) => s.name));
    for (const key of this.cache.endpointKeys())
      for (const n of this.cache.view(TypeUrl.ClusterLoadAssignment, key).wildcardNames()) names.add(n);
    return names;
  }

  /** Encode, counting failures; on failure the previous version of the resource (if any) stays. */
  private encode(r: ProtoResource, previous: CachedResource | undefined): CachedResource | undefined {
    try {
      const resource = encodeResource(r);
      if (previous && previous.resource.version === resource.version) return previous;
      return { resource, refs: referencesOf(r) };
    } catch (err) {
      this.metrics.buildErrors.inc({ type: typeLabel(r.typeUrl) });
      this.log.error(
        { err: err instanceof ResourceEncodeError ? err.message : err, name: r.name },
        'cannot build xDS resource; keeping the last good one',
      );
      return previous;
    }
  }

  /** SDS Secrets the listeners name; returns true when the set or a version changed. */
  private rebuildSecrets(): boolean {
    const next = new Map<string, CachedResource>();
    for (const name of referencedSecrets(this.store.routes(), this.store.gatewayConfig())) {
      const pair = this.tlsSecrets?.get(name);
      if (!pair) continue;
      const c = this.encode(buildSdsSecret(pair), this.secrets.get(name));
      if (c) next.set(name, c);
    }
    const same = next.size === this.secrets.size && [...next].every(([n, c]) => this.secrets.get(n) === c);
    this.secrets = next;
    return !same;
  }

  /** Returns true when the cluster set may have changed. */
  private rebuildClusters(only: ReadonlySet<string> | undefined): boolean {
    if (only && only.size === 0) return false;
    const names = only ?? new Set([...this.clusters.keys(), ...this.store.services().map((s) => s.name)]);
    let changed = false;
    for (const name of names) {
      const service = this.store.service(name);
      const previous = this.clusters.get(name);
      if (!service) {
        if (this.clusters.delete(name)) changed = true;
        continue;
      }
      const next = this.encode(buildCluster(service, this.opts), previous);
      if (next && next !== previous) {
        this.clusters.set(name, next);
        changed = true;
      }
    }
    return changed;
  }

  /** Listeners and route configurations, rebuilt only when the routes really differ. */
  private rebuildListenersAndRoutes(maybe: boolean): boolean {
    if (!maybe) return false;
    const signature = JSON.stringify([this.store.routes(), this.store.gatewayConfig()]);
    if (signature === this.routesSignature) return false;
    this.routesSignature = signature;
    const shared = this.builders.buildShared(this.store, this.opts);
    const next = new Map<string, CachedResource>();
    const add = (r: ProtoResource): void => {
      const key = `${r.typeUrl}\u0000${r.name}`;
      const c = this.encode(r, this.sharedRest.get(key));
      if (c) next.set(key, c);
    };
    for (const r of shared.listeners) add(r);
    for (const r of shared.apiListeners) add(r);
    for (const r of shared.routes) add(r);
    this.gatewayListenerNames = new Set(shared.listeners.map((l) => l.name));
    this.sharedRest = next;
    this.gatewayListeners = shared.listeners;
    const gatewayRouteNames = new Set(shared.listeners.flatMap((l) => referencesOf(l)));
    const extprocRoutes = new Map<string, CachedResource>();
    for (const r of shared.routes) {
      if (!gatewayRouteNames.has(r.name)) continue;
      const c = this.encode(withPickedRoute(r), this.extprocRoutes.get(r.name));
      if (c) extprocRoutes.set(r.name, c);
    }
    this.extprocRoutes = extprocRoutes;
    return true;
  }

  /**
   * The ext_proc variant for one gateway node: its listeners (x-proxima-node set to the node), the
   * route configurations with the picked route first, and the ext_proc and original-dst clusters.
   * Everything but the listeners is encoded once for all nodes. `rebuild` re-derives the listeners
   * (after the plain ones changed).
   */
  private variantResources(variant: string, rebuild: boolean): CachedResource[] {
    let listeners = this.variantListeners.get(variant);
    if (!listeners || rebuild) {
      const gatewayNode = variant.slice(EXTPROC_VARIANT_PREFIX.length);
      const previous = new Map((listeners ?? []).map((c) => [c.resource.name, c]));
      listeners = [];
      for (const l of this.gatewayListeners) {
        const c = this.encode(withExtprocListener(l, gatewayNode), previous.get(l.name));
        if (c) listeners.push(c);
      }
      this.variantListeners.set(variant, listeners);
    }
    this.extprocClusters ??= buildExtprocClusters(this.extprocAddress).flatMap((r) => this.encode(r, undefined) ?? []);
    return [...listeners, ...this.extprocRoutes.values(), ...this.extprocClusters];
  }

  /** A variant's first watcher arrived: publish its resources before the stream reads them. */
  private buildVariant(variant: string): void {
    if (this.closed || !variant.startsWith(EXTPROC_VARIANT_PREFIX)) return;
    this.cache.update((tx) => tx.setVariant(variant, this.variantResources(variant, false)));
  }

  /**
   * EDS of `services` for each key; gateways with equal assignments share one encoding. `fresh`
   * (the service's inputs changed) starts a new memo for the service; otherwise (a new key) the
   * memo of the last rebuild is reused.
   */
  private buildEndpointsFor(
    services: Iterable<string>,
    keys: Iterable<string>,
    fresh: boolean,
  ): Map<string, { resources: CachedResource[]; removed: string[] }> {
    const out = new Map<string, { resources: CachedResource[]; removed: string[] }>();
    const keyList = [...keys];
    for (const key of keyList) out.set(key, { resources: [], removed: [] });
    for (const service of services) {
      const exists = this.store.service(service) !== undefined;
      let memo = fresh ? undefined : this.edsMemo.get(service);
      if (!memo) this.edsMemo.set(service, (memo = new Map()));
      if (!exists) this.edsMemo.delete(service);
      for (const key of keyList) {
        const slot = out.get(key)!;
        if (!exists) {
          slot.removed.push(service);
          continue;
        }
        const assignment = this.engine.get(service, key);
        const sig = assignmentSignature(assignment);
        let c = memo.get(sig);
        if (!memo.has(sig)) {
          const previous = this.cache.view(TypeUrl.ClusterLoadAssignment, key).get(service);
          c = this.encode(
            this.builders.buildEndpoints(this.store, service, assignment, this.opts),
            previous && { resource: previous, refs: [] },
          );
          memo.set(sig, c);
        }
        if (c) slot.resources.push(c);
      }
    }
    return out;
  }

  /** Build every service's endpoints for a key that just got its first stream. */
  private buildKey(key: string): void {
    if (this.closed) return;
    const started = performance.now();
    const services = this.store.services().map((s) => s.name);
    const built = this.buildEndpointsFor(services, [key], false).get(key)!;
    this.cache.update((tx) => tx.setEndpoints(key, built.resources, { replace: true }));
    this.metrics.rebuildSeconds.observe({ kind: 'node' }, (performance.now() - started) / 1000);
    this.updateResourceGauges();
  }

  private updateResourceGauges(): void {
    for (const t of [...SHARED_KINDS, TypeUrl.ClusterLoadAssignment])
      this.metrics.resources.set({ type: typeLabel(t) }, this.cache.size(t));
  }
}
