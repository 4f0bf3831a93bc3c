import type { EncodedResource } from '../snapshot/encoded.js';

/** What a stream can see of one resource type: the cache's current content for its gateway node. */
export interface TypeView {
  get(name: string): EncodedResource | undefined;
  /** Names in this type's wildcard set (LDS: gateway listeners only; others: everything). */
  wildcardNames(): Iterable<string>;
  inWildcard(name: string): boolean;
}

/** A client's subscription to one type. */
export interface Subscription {
  readonly wildcard: boolean;
  readonly names: ReadonlySet<string>;
}

/** What a client holds of a type, by name (a Map, or a stream's HeldResources). */
export interface HeldLookup {
  readonly size: number;
  get(name: string): EncodedResource | undefined;
  has(name: string): boolean;
  keys(): Iterable<string>;
}

export interface ResourceDiff {
  /** Wanted resources the client does not hold at this version (new or changed). */
  readonly upserts: readonly EncodedResource[];
  /** Names the client holds and still wants, but which no longer exist (deleted). */
  readonly removed: string[];
  /** Names the client holds but no longer subscribes to: forget them, nothing to send. */
  readonly dropped: string[];
  /**
   * Set when nothing was held: the upserts are then exactly what `subscription` wants in `view`, so
   * a stream can hold them as that view instead of copying them one by one.
   */
  readonly whole?: { readonly view: TypeView; readonly subscription: Subscription };
}

/** Whether the subscription covers `name`; for a wildcard, a name that no longer exists counts (it was deleted). */
export function wants(sub: Subscription, view: TypeView, name: string): boolean {
  return sub.names.has(name) || (sub.wildcard && (view.inWildcard(name) || view.get(name) === undefined));
}

/** What a pure wildcard subscription is sent against nothing held, by view. */
const wildcardUpserts = new WeakMap<TypeView, readonly EncodedResource[]>();

/**
 * The one diff both SotW and Delta use: desired (subscription ∩ cache) against what the client
 * holds (`held`: what was last sent, including a NACKed version, so a rejected config is not sent
 * again until its content changes). `candidates` narrows the work to names a cache change touched;
 * without it every wanted and held name is compared.
 */
export function diffResources(sub: Subscription, view: TypeView, held: HeldLookup, candidates?: Iterable<string>): ResourceDiff {
  const upserts: EncodedResource[] = [];
  const removed: string[] = [];
  const dropped: string[] = [];
  const visit = (name: string): void => {
    const wanted = wants(sub, view, name);
    const current = wanted ? view.get(name) : undefined;
    if (!current && !wanted && !held.has(name)) return;
    const had = held.get(name);
    if (current) {
      if (!had || had.version !== current.version) upserts.push(current);
    } else if (had) {
      (wanted ? removed : dropped).push(name);
    }
  };
  if (candidates) {
    for (const name of candidates) visit(name);
  } else if (held.size === 0) {
    // A new subscription (every stream's first response, a thousand at once after a restart): with
    // nothing held, nothing is removed or dropped and the upserts are the wanted names that exist, in
    // the order below; no set of seen names, no lookups in `held`.
    const whole = { view, subscription: { wildcard: sub.wildcard, names: sub.names } };
    // Every gateway of a variant subscribes to the same wildcard (CDS, LDS) and sees the same view:
    // one list for all of them (views are immutable; the cache hands out one per type and variant).
    const pureWildcard = sub.wildcard && sub.names.size === 0;
    const shared = pureWildcard ? wildcardUpserts.get(view) : undefined;
    if (shared) return { upserts: shared, removed, dropped, whole };
    if (sub.wildcard)
      for (const name of view.wildcardNames()) {
        const current = view.get(name);
        if (current) upserts.push(current);
      }
    for (const name of sub.names) {
      if (sub.wildcard && view.inWildcard(name)) continue;
      const current = view.get(name);
      if (current) upserts.push(current);
    }
    if (pureWildcard) wildcardUpserts.set(view, upserts);
    return { upserts, removed, dropped, whole };
  } else {
    const seen = new Set<string>();
    const once = (name: string): void => {
      if (seen.has(name)) return;
      seen.add(name);
      visit(name);
    };
    if (sub.wildcard) for (const name of view.wildcardNames()) once(name);
    for (const name of sub.names) once(name);
    for (const name of held.keys()) once(name);
  }
  return { upserts, removed, dropped };
}

export function isEmptyDiff(d: ResourceDiff): boolean {
  return d.upserts.length === 0 && d.removed.length === 0 && d.dropped.length === 0;
}
