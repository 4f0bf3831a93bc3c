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
   * Set when nothing was held and the subscription is a pure wildcard or names only: the upserts are
   * then exactly what the client will hold, as `WholeSet` (see there).
   */
  readonly whole?: WholeSet;
}

/**
 * Everything a client was sent at once, by name: `list[index.get(name)]`, undefined where a wanted
 * name does not exist. Both parts are shared wherever they can be: a pure wildcard's list and index
 * by every stream that sees the same view; a name index by every stream with the same (shared)
 * subscription set. So a thousand streams that start at once hold a thousand arrays at most, not a
 * thousand maps, and each holds only resources it was sent.
 */
export interface WholeSet {
  readonly list: readonly (EncodedResource | undefined)[];
  readonly index: ReadonlyMap<string, number>;
}

/** Whether the subscription covers `name`; for a wildcard, a name that no longer exists counts (it was deleted). */
export function wants(sub: Subscription, view: TypeView, name: string): boolean {
  return sub.names.has(name) || (sub.wildcard && (view.inWildcard(name) || view.get(name) === undefined));
}

/** What a pure wildcard subscription is sent against nothing held, by view. */
const wildcardWholes = new WeakMap<TypeView, { readonly upserts: readonly EncodedResource[]; readonly whole: WholeSet }>();
/** Position of each name in a subscription set's order, by set (sets are never changed in place). */
const nameIndexes = new WeakMap<ReadonlySet<string>, ReadonlyMap<string, number>>();

function nameIndex(names: ReadonlySet<string>): ReadonlyMap<string, number> {
  let index = nameIndexes.get(names);
  if (!index) {
    const m = new Map<string, number>();
    for (const name of names) m.set(name, m.size);
    nameIndexes.set(names, (index = m));
  }
  return index;
}

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
    if (sub.wildcard && sub.names.size === 0) {
      // Every gateway of a variant subscribes to the same wildcard (CDS, LDS) and sees the same view:
      // one list for all of them (views are immutable; the cache hands out one per type and variant).
      let shared = wildcardWholes.get(view);
      if (!shared) {
        const index = new Map<string, number>();
        for (const name of view.wildcardNames()) {
          const current = view.get(name);
          if (!current) continue;
          index.set(name, upserts.length);
          upserts.push(current);
        }
        wildcardWholes.set(view, (shared = { upserts, whole: { list: upserts, index } }));
      }
      return { upserts: shared.upserts, removed, dropped, whole: shared.whole };
    }
    if (!sub.wildcard) {
      // Names only (EDS, RDS): the list follows the subscription's order, holes where a name is missing.
      const list: (EncodedResource | undefined)[] = new Array(sub.names.size);
      let i = 0;
      for (const name of sub.names) {
        const current = view.get(name);
        list[i++] = current;
        if (current) upserts.push(current);
      }
      return { upserts, removed, dropped, whole: { list, index: nameIndex(sub.names) } };
    }
    for (const name of view.wildcardNames()) {
      const current = view.get(name);
      if (current) upserts.push(current);
    }
    for (const name of sub.names) {
      if (view.inWildcard(name)) continue;
      const current = view.get(name);
      if (current) upserts.push(current);
    }
    return { upserts, removed, dropped };
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
