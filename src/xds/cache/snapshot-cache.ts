import type { Logger } from '../../log.js';
import { TypeUrl } from '../resources/types.js';
import type { TypeView } from './diff.js';
import { versionOf, type EncodedResource } from './encoded.js';

/**
 * Per-gateway snapshots of encoded xDS resources. Listeners, routes and clusters are shared by all
 * gateways; endpoints (EDS) are held per cache key (a gateway node, or '*' for unknown nodes) and
 * shared by every stream of that node. The cache never touches gRPC: servers read views and
 * register watchers, which hear which names changed after each published transaction.
 */

/** Names touched (added, changed or removed) per type by one published transaction. */
export type CacheChange = ReadonlyMap<TypeUrl, ReadonlySet<string>>;
export type CacheWatcher = (change: CacheChange) => void;

export interface CacheWatch {
  /** The cache key the gateway node maps to (the node itself, or the unknown-node key). */
  readonly key: string;
  /** The variant of the shared resources this watch sees (undefined: the plain shared set). */
  readonly variant: string | undefined;
  cancel(): void;
}

/** An encoded resource plus the names it depends on (cluster → EDS name, listener → RDS names). */
export interface CachedResource {
  readonly resource: EncodedResource;
  readonly refs: readonly string[];
}

export interface XdsCacheOptions {
  readonly log: Logger;
  /** Maps a gateway node to its EDS cache key (default: identity). */
  readonly nodeKey?: (gatewayNode: string) => string;
  /** Called when a watcher needs a key whose endpoints were never built (build them synchronously). */
  readonly onKeyDemand?: (key: string) => void;
  /** Called when a key loses its last watcher (its endpoints were dropped). */
  readonly onKeyIdle?: (key: string) => void;
  /** Called with every consistency error found before publishing. */
  readonly onInconsistency?: (errors: readonly string[]) => void;
  /** Keys whose endpoints are kept even without watchers. */
  readonly pinnedKeys?: readonly string[];
  /** Called when a watcher needs a variant that is not set yet (set it synchronously with setVariant). */
  readonly onVariantDemand?: (variant: string) => void;
  /** Called when a variant loses its last watcher (its resources were dropped). */
  readonly onVariantIdle?: (variant: string) => void;
}

type SharedType = typeof TypeUrl.Listener | typeof TypeUrl.RouteConfiguration | typeof TypeUrl.Cluster | typeof TypeUrl.Secret;

export const SHARED_TYPES: readonly SharedType[] = [TypeUrl.Cluster, TypeUrl.Secret, TypeUrl.Listener, TypeUrl.RouteConfiguration];
/** Make-before-break order (Envoy xDS protocol docs, "eventual consistency considerations"). */
export const PUSH_ORDER: readonly TypeUrl[] = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  // Certificates before the listeners that name them, so a new TLS listener warms at once.
  TypeUrl.Secret,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
];
export const ALL_TYPES: ReadonlySet<string> = new Set(PUSH_ORDER);

class WatchHandle implements CacheWatch {
  cancelled = false;
  constructor(
    private readonly cache: XdsCache,
    readonly gatewayNode: string,
    public key: string,
    readonly watcher: CacheWatcher,
    readonly variant: string | undefined,
  ) {}
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cache.cancelWatch(this);
  }
}

class MapView implements TypeView {
  constructor(
    private readonly byName: ReadonlyMap<string, CachedResource>,
    private readonly wildcard: ReadonlySet<string> | undefined,
  ) {}
  get(name: string): EncodedResource | undefined {
    return this.byName.get(name)?.resource;
  }
  wildcardNames(): Iterable<string> {
    return this.wildcard ?? this.byName.keys();
  }
  inWildcard(name: string): boolean {
    return this.wildcard ? this.wildcard.has(name) : this.byName.has(name);
  }
}

/**
 * A variant's view of a shared type: its resources replace same-named shared ones and add new ones;
 * all of them are in the wildcard set. Layered lazily, so a variant costs only its own resources.
 */
class OverlayView implements TypeView {
  constructor(
    private readonly base: MapView,
    private readonly overlay: ReadonlyMap<string, CachedResource>,
  ) {}
  get(name: string): EncodedResource | undefined {
    return this.overlay.get(name)?.resource ?? this.base.get(name);
  }
  *wildcardNames(): Iterable<string> {
    yield* this.overlay.keys();
    for (const name of this.base.wildcardNames()) if (!this.overlay.has(name)) yield name;
  }
  inWildcard(name: string): boolean {
    return this.overlay.has(name) || this.base.inWildcard(name);
  }
}

const EMPTY = new Map<string, CachedResource>();

/** Mutations collected in one transaction and published together. */
export interface CacheTransaction {
  /** Replace every resource of a shared type; `wildcard` limits the wildcard set (LDS). */
  setShared(typeUrl: SharedType, resources: readonly CachedResource[], wildcard?: ReadonlySet<string>): void;
  /** Replace (`replace: true`) or merge the endpoints of one key; `remove` deletes names. */
  setEndpoints(key: string, resources: readonly CachedResource[], opts?: { replace?: boolean; remove?: readonly string[] }): void;
  /**
   * Replace every resource of a variant (listeners, routes and clusters seen instead of, or besides,
   * the shared ones by watchers of that variant). Ignored for variants nobody watches.
   */
  setVariant(variant: string, resources: readonly CachedResource[]): void;
}

export class XdsCache {
  private readonly log: Logger;
  private readonly opts: XdsCacheOptions;
  private readonly shared = new Map<SharedType, Map<string, CachedResource>>();
  private readonly wildcards = new Map<SharedType, ReadonlySet<string>>();
  private readonly endpoints = new Map<string, Map<string, CachedResource>>();
  private readonly watchers = new Map<string, Set<WatchHandle>>();
  private readonly variants = new Map<string, Map<SharedType, Map<string, CachedResource>>>();
  private readonly variantWatchers = new Map<string, number>();
  private readonly pinned: ReadonlySet<string>;
  private lastErrors: readonly string[] = [];
  private publishing = false;

  constructor(opts: XdsCacheOptions) {
    this.opts = opts;
    this.log = opts.log;
    this.pinned = new Set(opts.pinnedKeys ?? []);
    for (const t of SHARED_TYPES) this.shared.set(t, new Map());
  }

  keyOf(gatewayNode: string): string {
    return this.opts.nodeKey ? this.opts.nodeKey(gatewayNode) : gatewayNode;
  }

  view(typeUrl: TypeUrl, key: string, variant?: string): TypeView {
    if (typeUrl === TypeUrl.ClusterLoadAssignment) return new MapView(this.endpoints.get(key) ?? EMPTY, undefined);
    const base = new MapView(this.shared.get(typeUrl)!, this.wildcards.get(typeUrl));
    const overlay = variant === undefined ? undefined : this.variants.get(variant)?.get(typeUrl);
    return overlay && overlay.size > 0 ? new OverlayView(base, overlay) : base;
  }

  /** Variants with at least one watcher. */
  watchedVariants(): string[] {
    return [...this.variantWatchers.keys()];
  }

  /** Version of a type for a key: order-independent hash over its resources' versions. */
  typeVersion(typeUrl: TypeUrl, key: string): string {
    const m = typeUrl === TypeUrl.ClusterLoadAssignment ? (this.endpoints.get(key) ?? EMPTY) : this.shared.get(typeUrl)!;
    return versionOf([...m.values()].map((c) => c.resource));
  }

  size(typeUrl: TypeUrl, key?: string): number {
    if (typeUrl === TypeUrl.ClusterLoadAssignment) {
      if (key !== undefined) return this.endpoints.get(key)?.size ?? 0;
      let n = 0;
      for (const m of this.endpoints.values()) n += m.size;
      return n;
    }
    return this.shared.get(typeUrl)!.size;
  }

  /** Keys that hold endpoints right now. */
  endpointKeys(): string[] {
    return [...this.endpoints.keys()];
  }

  /** Keys with at least one watcher. */
  watchedKeys(): string[] {
    return [...this.watchers.keys()];
  }

  hasEndpoints(key: string): boolean {
    return this.endpoints.has(key);
  }

  consistencyErrors(): readonly string[] {
    return this.lastErrors;
  }

  /**
   * Watch every change visible to `gatewayNode` (through `variant`, when given). Builds the key's
   * endpoints and the variant's resources on first demand.
   */
  watch(gatewayNode: string, watcher: CacheWatcher, variant?: string): CacheWatch {
    const handle = new WatchHandle(this, gatewayNode, this.keyOf(gatewayNode), watcher, variant);
    if (variant !== undefined) {
      const n = this.variantWatchers.get(variant) ?? 0;
      this.variantWatchers.set(variant, n + 1);
      if (n === 0 && !this.variants.has(variant)) this.opts.onVariantDemand?.(variant);
    }
    this.addWatcher(handle);
    return handle;
  }

  /**
   * Re-resolve every watcher's key (after nodes were added or removed): a stream whose node became
   * known moves from the unknown-node endpoints to its own, and hears every EDS name as changed.
   */
  rekeyAll(): void {
    const handles: WatchHandle[] = [];
    for (const set of this.watchers.values()) handles.push(...set);
    for (const h of handles) {
      const next = this.keyOf(h.gatewayNode);
      if (next === h.key) continue;
      const oldNames = [...(this.endpoints.get(h.key)?.keys() ?? [])];
      this.removeWatcher(h);
      h.key = next;
      this.addWatcher(h);
      const names = new Set([...oldNames, ...(this.endpoints.get(next)?.keys() ?? [])]);
      this.safeCall(h.watcher, new Map([[TypeUrl.ClusterLoadAssignment, names]]));
    }
  }

  /** @internal */
  cancelWatch(h: WatchHandle): void {
    this.removeWatcher(h);
    if (h.variant === undefined) return;
    const n = (this.variantWatchers.get(h.variant) ?? 1) - 1;
    if (n > 0) {
      this.variantWatchers.set(h.variant, n);
      return;
    }
    this.variantWatchers.delete(h.variant);
    this.variants.delete(h.variant);
    this.opts.onVariantIdle?.(h.variant);
  }

  /** Apply mutations, check consistency, then notify watchers of exactly what changed. */
  update(fn: (tx: CacheTransaction) => void): CacheChange {
    if (this.publishing) throw new Error('XdsCache.update called from inside a watcher');
    const sharedChanges = new Map<TypeUrl, Set<string>>();
    const edsChanges = new Map<string, Set<string>>();
    const variantChanges = new Map<string, Map<TypeUrl, Set<string>>>();
    const note = (m: Map<string, Set<string>>, k: string, name: string): void => {
      let s = m.get(k);
      if (!s) m.set(k, (s = new Set()));
      s.add(name);
    };
    const tx: CacheTransaction = {
      setShared: (typeUrl, resources, wildcard) => {
        const old = this.shared.get(typeUrl)!;
        const next = new Map<string, CachedResource>();
        for (const c of resources) {
          next.set(c.resource.name, c);
          const prev = old.get(c.resource.name);
          if (!prev || prev.resource.version !== c.resource.version)
            note(sharedChanges as Map<string, Set<string>>, typeUrl, c.resource.name);
        }
        for (const name of old.keys()) if (!next.has(name)) note(sharedChanges as Map<string, Set<string>>, typeUrl, name);
        const oldWildcard = this.wildcards.get(typeUrl);
        if (wildcard || oldWildcard) {
          // Names entering or leaving the wildcard set change what wildcard subscribers hold.
          for (const name of new Set([...(wildcard ?? next.keys()), ...(oldWildcard ?? old.keys())])) {
            const inNew = wildcard ? wildcard.has(name) : next.has(name);
            const inOld = oldWildcard ? oldWildcard.has(name) : old.has(name);
            if (inNew !== inOld) note(sharedChanges as Map<string, Set<string>>, typeUrl, name);
          }
        }
        this.shared.set(typeUrl, next);
        if (wildcard) this.wildcards.set(typeUrl, wildcard);
        else this.wildcards.delete(typeUrl);
      },
      setEndpoints: (key, resources, opts) => {
        const old = this.endpoints.get(key) ?? new Map<string, CachedResource>();
        const next = opts?.replace ? new Map<string, CachedResource>() : old;
        if (opts?.replace) {
          for (const name of old.keys()) if (!resources.some((r) => r.resource.name === name)) note(edsChanges, key, name);
        }
        for (const c of resources) {
          const prev = old.get(c.resource.name);
          if (!prev || prev.resource.version !== c.resource.version) note(edsChanges, key, c.resource.name);
          next.set(c.resource.name, c);
        }
        for (const name of opts?.remove ?? []) {
          if (next.delete(name)) note(edsChanges, key, name);
        }
        this.endpoints.set(key, next);
      },
      setVariant: (variant, resources) => {
        if (!this.variantWatchers.has(variant)) return;
        const old = this.variants.get(variant);
        const next = new Map<SharedType, Map<string, CachedResource>>();
        for (const c of resources) {
          const t = c.resource.typeUrl as SharedType;
          if (!this.shared.has(t)) throw new Error(`variant "${variant}" cannot hold ${t}`);
          let m = next.get(t);
          if (!m) next.set(t, (m = new Map()));
          m.set(c.resource.name, c);
        }
        let changes = variantChanges.get(variant);
        if (!changes) variantChanges.set(variant, (changes = new Map()));
        for (const t of SHARED_TYPES) {
          const before = old?.get(t) ?? EMPTY;
          const after = next.get(t) ?? EMPTY;
          for (const [name, c] of after) {
            if (before.get(name)?.resource.version !== c.resource.version) note(changes, t, name);
          }
          for (const name of before.keys()) if (!after.has(name)) note(changes, t, name);
        }
        this.variants.set(variant, next);
      },
    };
    fn(tx);
    for (const [v, changes] of variantChanges) if (changes.size === 0) variantChanges.delete(v);
    this.checkConsistency(sharedChanges.size > 0 || variantChanges.size > 0, edsChanges);
    return this.notify(sharedChanges, edsChanges, variantChanges);
  }

  private notify(
    sharedChanges: Map<TypeUrl, Set<string>>,
    edsChanges: Map<string, Set<string>>,
    variantChanges: ReadonlyMap<string, ReadonlyMap<TypeUrl, ReadonlySet<string>>>,
  ): CacheChange {
    this.publishing = true;
    try {
      if (variantChanges.size > 0) {
        this.notifyWithVariants(sharedChanges, edsChanges, variantChanges);
      } else if (sharedChanges.size > 0) {
        for (const [key, set] of this.watchers) {
          const eds = edsChanges.get(key);
          const change: Map<TypeUrl, ReadonlySet<string>> = new Map(sharedChanges);
          if (eds) change.set(TypeUrl.ClusterLoadAssignment, eds);
          for (const h of [...set]) this.safeCall(h.watcher, change);
        }
      } else {
        for (const [key, eds] of edsChanges) {
          const set = this.watchers.get(key);
          if (!set) continue;
          const change = new Map([[TypeUrl.ClusterLoadAssignment as TypeUrl, eds as ReadonlySet<string>]]);
          for (const h of [...set]) this.safeCall(h.watcher, change);
        }
      }
    } finally {
      this.publishing = false;
    }
    const all = new Map<TypeUrl, Set<string>>(sharedChanges);
    for (const changes of variantChanges.values()) {
      for (const [t, names] of changes) {
        let s = all.get(t);
        if (!s) all.set(t, (s = new Set()));
        for (const n of names) s.add(n);
      }
    }
    const edsAll = new Set<string>();
    for (const s of edsChanges.values()) for (const n of s) edsAll.add(n);
    if (edsAll.size > 0) all.set(TypeUrl.ClusterLoadAssignment, edsAll);
    return all;
  }

  /** Each watcher hears the shared changes, its key's EDS changes and its variant's changes. */
  private notifyWithVariants(
    sharedChanges: ReadonlyMap<TypeUrl, ReadonlySet<string>>,
    edsChanges: ReadonlyMap<string, ReadonlySet<string>>,
    variantChanges: ReadonlyMap<string, ReadonlyMap<TypeUrl, ReadonlySet<string>>>,
  ): void {
    for (const [key, set] of this.watchers) {
      const eds = edsChanges.get(key);
      const perVariant = new Map<string | undefined, CacheChange | undefined>();
      for (const h of [...set]) {
        let change = perVariant.get(h.variant);
        if (!perVariant.has(h.variant)) {
          const merged = new Map<TypeUrl, ReadonlySet<string>>(sharedChanges);
          for (const [t, names] of (h.variant !== undefined ? variantChanges.get(h.variant) : undefined) ?? []) {
            const s = merged.get(t);
            merged.set(t, s ? new Set([...s, ...names]) : names);
          }
          if (eds) merged.set(TypeUrl.ClusterLoadAssignment, eds);
          change = merged.size > 0 ? merged : undefined;
          perVariant.set(h.variant, change);
        }
        if (change) this.safeCall(h.watcher, change);
      }
    }
  }

  private safeCall(w: CacheWatcher, change: CacheChange): void {
    try {
      w(change);
    } catch (err) {
      this.log.error({ err }, 'xDS cache watcher failed');
    }
  }

  private addWatcher(h: WatchHandle): void {
    const key = h.key;
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(h);
    if (!this.endpoints.has(key)) this.opts.onKeyDemand?.(key);
  }

  private removeWatcher(h: WatchHandle): void {
    const key = h.key;
    const set = this.watchers.get(key);
    if (!set || !set.delete(h) || set.size > 0) return;
    this.watchers.delete(key);
    if (this.pinned.has(key)) return;
    this.endpoints.delete(key);
    this.opts.onKeyIdle?.(key);
  }

  /**
   * go-control-plane's Consistent(), both directions: every EDS name a cluster references exists
   * for the key and every EDS name has a cluster; every route configuration a listener references
   * exists and every route configuration has a listener. Errors are reported, not thrown: a partial
   * snapshot is still served (clients wait for missing resources) rather than blocking all updates.
   */
  private checkConsistency(sharedChanged: boolean, edsChanges: ReadonlyMap<string, ReadonlySet<string>>): void {
    const errors: string[] = [];
    const clusters = this.shared.get(TypeUrl.Cluster)!;
    const edsRefs = new Set<string>();
    for (const c of clusters.values()) for (const r of c.refs) edsRefs.add(r);
    if (sharedChanged) {
      const listeners = this.shared.get(TypeUrl.Listener)!;
      const routes = this.shared.get(TypeUrl.RouteConfiguration)!;
      const rdsRefs = new Set<string>();
      for (const l of listeners.values()) for (const r of l.refs) rdsRefs.add(r);
      for (const r of rdsRefs) if (!routes.has(r)) errors.push(`listener references missing route configuration "${r}"`);
      for (const r of routes.keys()) if (!rdsRefs.has(r)) errors.push(`route configuration "${r}" has no listener`);
      for (const [variant, byType] of this.variants) {
        for (const l of byType.get(TypeUrl.Listener)?.values() ?? []) {
          for (const r of l.refs) {
            if (!byType.get(TypeUrl.RouteConfiguration)?.has(r) && !routes.has(r))
              errors.push(`variant "${variant}" listener references missing route configuration "${r}"`);
          }
        }
      }
    }
    // After a shared change every key is checked in full; after an EDS-only change only the touched
    // names (keeps a one-service update O(gateways), not O(gateways x services)).
    const keys = sharedChanged ? [...this.endpoints.keys()] : [...edsChanges.keys()];
    for (const key of keys) {
      const eds = this.endpoints.get(key);
      if (!eds) continue;
      const names = sharedChanged ? new Set([...edsRefs, ...eds.keys()]) : (edsChanges.get(key) ?? new Set<string>());
      for (const name of names) {
        const referenced = edsRefs.has(name);
        const present = eds.has(name);
        if (referenced && !present) errors.push(`cluster EDS name "${name}" has no endpoints for gateway key "${key}"`);
        else if (present && !referenced) errors.push(`endpoints "${name}" for gateway key "${key}" have no cluster`);
      }
      if (errors.length > 100) break;
    }
    this.lastErrors = errors;
    if (errors.length > 0) {
      this.log.warn({ errors: errors.slice(0, 10), count: errors.length }, 'xDS snapshot is inconsistent; publishing anyway');
      this.opts.onInconsistency?.(errors);
    }
  }
}
