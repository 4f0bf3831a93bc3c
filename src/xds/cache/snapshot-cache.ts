import type { Logger } from '../../log.js';
import { TypeUrl } from '../resources/types.js';
import type { ResourceSet, Snapshot } from '../snapshot/snapshot.js';
import type { TypeView } from './diff.js';
import { versionOf, type EncodedResource } from '../snapshot/encoded.js';

/**
 * The only owner of encoded resources on their way to gateways: it holds the current snapshot,
 * answers what a gateway (its key, its variant) sees of each type, and on `publish` tells every
 * watch exactly which names changed for it: one notify path. It never calls back into the control
 * plane and never touches gRPC; the servers only read views and react to their watch.
 */

export type { CachedResource } from '../snapshot/snapshot.js';

/** Names touched (added, changed or removed) per type URL by one published snapshot, for one watch. */
export type CacheChange = ReadonlyMap<string, ReadonlySet<string>>;
export type CacheWatcher = (change: CacheChange) => void;

export interface CacheWatch {
  /** The key the gateway node maps to (the node itself, or the unknown-node key). */
  readonly key: string;
  /** The variant of the shared resources this watch sees (undefined: the plain shared set). */
  readonly variant: string | undefined;
  cancel(): void;
}

export interface XdsCacheOptions {
  readonly log: Logger;
  /** The key of gateways on nodes the snapshot does not know. */
  readonly unknownKey: string;
}

/** Make-before-break order (Envoy xDS protocol docs, "eventual consistency considerations"). */
export const PUSH_ORDER: readonly string[] = [
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

/** Types × variants whose views are kept per snapshot (variants are few; bounded all the same). */
const MAX_SHARED_VIEWS = 1024;

const NO_RESOURCES: ResourceSet = { byName: new Map(), version: '' };

class SetView implements TypeView {
  constructor(private readonly set: ResourceSet) {}
  get(name: string): EncodedResource | undefined {
    return this.set.byName.get(name)?.resource;
  }
  wildcardNames(): Iterable<string> {
    return this.set.wildcard ?? this.set.byName.keys();
  }
  inWildcard(name: string): boolean {
    return this.set.wildcard ? this.set.wildcard.has(name) : this.set.byName.has(name);
  }
}

/** A variant's resources replace same-named shared ones and add new ones; all of them are in the wildcard set. */
class OverlayView implements TypeView {
  constructor(
    private readonly base: SetView,
    private readonly overlay: ResourceSet,
  ) {}
  get(name: string): EncodedResource | undefined {
    return this.overlay.byName.get(name)?.resource ?? this.base.get(name);
  }
  *wildcardNames(): Iterable<string> {
    yield* this.overlay.byName.keys();
    for (const name of this.base.wildcardNames()) if (!this.overlay.byName.has(name)) yield name;
  }
  inWildcard(name: string): boolean {
    return this.overlay.byName.has(name) || this.base.inWildcard(name);
  }
}

/** One key's endpoints: every service, each as the snapshot resolves it for the key. */
class EndpointsView implements TypeView {
  private readonly slot: number | undefined;
  constructor(
    private readonly snapshot: Snapshot,
    private readonly key: string,
  ) {
    this.slot = snapshot.keySlot(key);
  }
  get(name: string): EncodedResource | undefined {
    const endpoints = this.snapshot.endpoints.get(name);
    if (!endpoints) return undefined;
    return this.slot === undefined ? endpoints.forKey(this.key) : endpoints.forSlot(this.slot);
  }
  wildcardNames(): Iterable<string> {
    return this.snapshot.endpoints.keys();
  }
  inWildcard(name: string): boolean {
    return this.snapshot.endpoints.has(name);
  }
}

const EMPTY_SNAPSHOT = (unknownKey: string): Snapshot => ({
  version: '',
  nodes: new Set(),
  unknownKey,
  shared: new Map(),
  endpoints: new Map(),
  keySlot: () => undefined,
  variant: () => undefined,
  releaseVariant: () => {},
  heldVariants: () => [],
  errors: [],
  buildErrors: [],
});

/** Names whose resource (or wildcard membership) differs between two sets of one type. */
export function changedNames(before: ResourceSet | undefined, after: ResourceSet | undefined): Set<string> {
  const out = new Set<string>();
  if (before === after) return out;
  const a = before ?? NO_RESOURCES;
  const b = after ?? NO_RESOURCES;
  for (const [name, c] of b.byName) if (a.byName.get(name)?.resource.version !== c.resource.version) out.add(name);
  for (const name of a.byName.keys()) if (!b.byName.has(name)) out.add(name);
  if (a.wildcard || b.wildcard) {
    const inA = (n: string): boolean => (a.wildcard ? a.wildcard.has(n) : a.byName.has(n));
    const inB = (n: string): boolean => (b.wildcard ? b.wildcard.has(n) : b.byName.has(n));
    for (const n of [...(a.wildcard ?? a.byName.keys()), ...(b.wildcard ?? b.byName.keys())]) if (inA(n) !== inB(n)) out.add(n);
  }
  return out;
}

export class XdsCache {
  private readonly log: Logger;
  private readonly unknownKey: string;
  private current: Snapshot;
  /** Views of the shared types in `current`, by type and variant (see `view`). */
  private readonly sharedViews = new Map<string, TypeView>();
  private readonly watchers = new Map<string, Set<WatchHandle>>();
  private readonly variantWatchers = new Map<string, number>();
  private publishing = false;

  constructor(opts: XdsCacheOptions) {
    this.log = opts.log;
    this.unknownKey = opts.unknownKey;
    this.current = EMPTY_SNAPSHOT(opts.unknownKey);
  }

  /** The snapshot being served. */
  snapshot(): Snapshot {
    return this.current;
  }

  keyOf(gatewayNode: string): string {
    return this.current.nodes.has(gatewayNode) ? gatewayNode : this.unknownKey;
  }

  /**
   * What a gateway of `key` (seeing `variant`) sees of a type in the current snapshot. Views are
   * immutable; the shared types' views are one object per type and variant until the next publish,
   * so what is derived from a view (a wildcard's first response) is derived once for all gateways.
   */
  view(typeUrl: string, key: string, variant?: string): TypeView {
    if (typeUrl === TypeUrl.ClusterLoadAssignment) return new EndpointsView(this.current, key);
    const memoKey = variant === undefined ? typeUrl : `${typeUrl}\u0000${variant}`;
    let view = this.sharedViews.get(memoKey);
    if (view) return view;
    const base = new SetView(this.current.shared.get(typeUrl) ?? NO_RESOURCES);
    const overlay = variant === undefined ? undefined : this.current.variant(variant)?.get(typeUrl);
    view = overlay && overlay.byName.size > 0 ? new OverlayView(base, overlay) : base;
    if (this.sharedViews.size < MAX_SHARED_VIEWS) this.sharedViews.set(memoKey, view);
    return view;
  }

  /** Version of a type as a gateway of `key` sees it (plain variant): order-independent hash of its resources. */
  typeVersion(typeUrl: string, key: string): string {
    const view = this.view(typeUrl, key);
    const resources: EncodedResource[] = [];
    for (const name of view.wildcardNames()) {
      const r = view.get(name);
      if (r) resources.push(r);
    }
    return versionOf(resources);
  }

  /** Resources of a type; for EDS without a key, the distinct encodings over all keys. */
  size(typeUrl: string, key?: string): number {
    if (typeUrl !== TypeUrl.ClusterLoadAssignment) return this.current.shared.get(typeUrl)?.byName.size ?? 0;
    if (key !== undefined) return this.current.endpoints.size;
    let n = 0;
    for (const e of this.current.endpoints.values()) for (const _ of e.encodings()) n++;
    return n;
  }

  /** Keys with at least one watch. */
  watchedKeys(): string[] {
    return [...this.watchers.keys()];
  }

  /** Variants with at least one watch. */
  watchedVariants(): string[] {
    return [...this.variantWatchers.keys()];
  }

  consistencyErrors(): readonly string[] {
    return this.current.errors;
  }

  /** Watch every change visible to `gatewayNode` (through `variant`, when given). */
  watch(gatewayNode: string, watcher: CacheWatcher, variant?: string): CacheWatch {
    const handle = new WatchHandle(this, gatewayNode, this.keyOf(gatewayNode), watcher, variant);
    if (variant !== undefined) this.variantWatchers.set(variant, (this.variantWatchers.get(variant) ?? 0) + 1);
    this.addWatcher(handle);
    return handle;
  }

  /** @internal */
  cancelWatch(h: WatchHandle): void {
    this.removeWatcher(h);
    if (h.variant === undefined) return;
    const n = (this.variantWatchers.get(h.variant) ?? 1) - 1;
    if (n > 0) return void this.variantWatchers.set(h.variant, n);
    this.variantWatchers.delete(h.variant);
    this.current.releaseVariant(h.variant);
    for (const t of PUSH_ORDER) this.sharedViews.delete(`${t}\u0000${h.variant}`);
  }

  /**
   * Serve `next` from now on and tell each watch which names changed for it (its key's endpoints,
   * the shared types, its variant's overlay). A watch whose node became known (or unknown) moves to
   * its new key and hears every EDS name. Returns the union of all changes.
   */
  publish(next: Snapshot): CacheChange {
    if (this.publishing) throw new Error('XdsCache.publish called from inside a watcher');
    const prev = this.current;
    this.current = next;
    this.sharedViews.clear();
    if (next.errors.length > 0)
      this.log.warn({ errors: next.errors.slice(0, 10), count: next.errors.length }, 'xDS snapshot is inconsistent; publishing anyway');
    const shared = new Map<string, Set<string>>();
    for (const t of new Set([...prev.shared.keys(), ...next.shared.keys()])) {
      const names = changedNames(prev.shared.get(t), next.shared.get(t));
      if (names.size > 0) shared.set(t, names);
    }
    const edsServices: string[] = [];
    for (const [s, e] of next.endpoints) if (prev.endpoints.get(s) !== e) edsServices.push(s);
    for (const s of prev.endpoints.keys()) if (!next.endpoints.has(s)) edsServices.push(s);
    const allEds = (): Set<string> => new Set([...prev.endpoints.keys(), ...next.endpoints.keys()]);
    const moved = prev.nodes === next.nodes ? new Set<WatchHandle>() : this.rekey();

    const variantChanges = new Map<string | undefined, Map<string, ReadonlySet<string>>>();
    const changeOfVariant = (variant: string | undefined): Map<string, ReadonlySet<string>> => {
      let change = variantChanges.get(variant);
      if (change) return change;
      change = new Map(shared);
      if (variant !== undefined) {
        const before = prev.variant(variant);
        const after = next.variant(variant);
        if (before !== after) {
          for (const t of new Set([...(before?.keys() ?? []), ...(after?.keys() ?? [])])) {
            const names = changedNames(before?.get(t), after?.get(t));
            if (names.size === 0) continue;
            const s = change.get(t);
            change.set(t, s ? new Set([...s, ...names]) : names);
          }
        }
      }
      variantChanges.set(variant, change);
      return change;
    };

    const union = new Map<string, ReadonlySet<string>>(shared);
    const unionEds = new Set<string>();
    this.publishing = true;
    try {
      for (const [key, handles] of this.watchers) {
        const eds = new Set<string>();
        for (const s of edsServices) {
          if (prev.endpoints.get(s)?.forKey(key)?.version !== next.endpoints.get(s)?.forKey(key)?.version) eds.add(s);
        }
        for (const s of eds) unionEds.add(s);
        const perVariant = new Map<string | undefined, CacheChange>();
        for (const h of [...handles]) {
          let change: CacheChange | undefined = moved.has(h) ? undefined : perVariant.get(h.variant);
          if (!change) {
            const m = new Map(changeOfVariant(h.variant));
            const names = moved.has(h) ? allEds() : eds;
            if (names.size > 0) m.set(TypeUrl.ClusterLoadAssignment, names);
            change = m;
            if (!moved.has(h)) perVariant.set(h.variant, m);
          }
          if (change.size > 0) this.safeCall(h.watcher, change);
        }
      }
    } finally {
      this.publishing = false;
    }
    if (unionEds.size > 0) union.set(TypeUrl.ClusterLoadAssignment, unionEds);
    return union;
  }

  /** Re-resolve every watch's key against the current snapshot; returns the watches that moved. */
  private rekey(): Set<WatchHandle> {
    const moved = new Set<WatchHandle>();
    for (const set of [...this.watchers.values()]) {
      for (const h of [...set]) {
        const next = this.keyOf(h.gatewayNode);
        if (next === h.key) continue;
        this.removeWatcher(h);
        h.key = next;
        this.addWatcher(h);
        moved.add(h);
      }
    }
    return moved;
  }

  private safeCall(w: CacheWatcher, change: CacheChange): void {
    try {
      w(change);
    } catch (err) {
      this.log.error({ err }, 'xDS cache watcher failed');
    }
  }

  private addWatcher(h: WatchHandle): void {
    let set = this.watchers.get(h.key);
    if (!set) this.watchers.set(h.key, (set = new Set()));
    set.add(h);
  }

  private removeWatcher(h: WatchHandle): void {
    const set = this.watchers.get(h.key);
    if (!set || !set.delete(h) || set.size > 0) return;
    this.watchers.delete(h.key);
  }
}
