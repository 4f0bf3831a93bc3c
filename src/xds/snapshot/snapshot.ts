import { createHash } from 'node:crypto';
import { versionOf, type EncodedResource } from './encoded.js';

/**
 * The snapshot value: everything every gateway may be served, immutable once built, versioned by
 * its content. Built by `buildSnapshot` (build.ts) and published whole to the cache, which is its
 * only reader on behalf of the xDS servers.
 */

/** An encoded resource plus the names it depends on (cluster → EDS name, listener → RDS names). */
export interface CachedResource {
  readonly resource: EncodedResource;
  readonly refs: readonly string[];
}

/** The resources of one type as a gateway sees them. */
export interface ResourceSet {
  readonly byName: ReadonlyMap<string, CachedResource>;
  /** Names in the wildcard set, when not every name (LDS: the gateway listeners only). */
  readonly wildcard?: ReadonlySet<string>;
  /** Content hash of the set (order-independent). */
  readonly version: string;
}

/** One service's ClusterLoadAssignment per gateway key; gateways with equal assignments share one encoding. */
export interface ServiceEndpoints {
  readonly service: string;
  /** The resource a gateway of `key` receives (the unknown-node key's when the key has no row). */
  forKey(key: string): EncodedResource | undefined;
  /** `forKey` of the key at `slot` (`Snapshot.keySlot`): an array read, no lookup by key. */
  forSlot(slot: number): EncodedResource | undefined;
  /** Every distinct encoding of the service. */
  encodings(): Iterable<CachedResource>;
  /** Content hash over (gateway key → resource version): an order-free combination of one fingerprint per row. */
  readonly version: string;
}

/** Resources a variant (e.g. ext_proc picking on one gateway node) sees instead of, or besides, the shared ones. */
export type VariantOverlay = ReadonlyMap<string, ResourceSet>;

/** Something that went wrong building one resource: the previous good version (if any) was kept. */
export interface BuildError {
  readonly typeUrl: string;
  readonly name: string;
  readonly message: string;
}

export interface Snapshot {
  /** Content hash of everything below: equal content, equal version, on every replica. */
  readonly version: string;
  /** Gateway nodes with endpoints of their own; gateways on any other node read `unknownKey`'s. */
  readonly nodes: ReadonlySet<string>;
  readonly unknownKey: string;
  /** Per type URL, the resources that are the same for every gateway (CDS, LDS, RDS, …). */
  readonly shared: ReadonlyMap<string, ResourceSet>;
  /** Per service, its endpoints per gateway key (EDS). */
  readonly endpoints: ReadonlyMap<string, ServiceEndpoints>;
  /**
   * The slot of a gateway key in every service's endpoints, when it has one: a stream's first EDS
   * response reads a thousand services for one key, so the key is looked up once, not per service.
   */
  keySlot(key: string): number | undefined;
  /** A variant's overlay, computed on first use by a pure function of this snapshot and memoised. */
  variant(name: string): VariantOverlay | undefined;
  /**
   * Forget a memoised overlay (the cache calls this when a variant's last watch ends: variant names
   * come from clients, so only watched ones may stay in memory). Asked again, it is recomputed.
   */
  releaseVariant(name: string): void;
  /** Variants whose overlay is memoised right now. */
  heldVariants(): string[];
  /** Consistency errors (go-control-plane's Consistent(): references that do not resolve). */
  readonly errors: readonly string[];
  /** Resources that failed to build in this round (their previous version was kept). */
  readonly buildErrors: readonly BuildError[];
}

export function resourceSet(byName: ReadonlyMap<string, CachedResource>, wildcard?: ReadonlySet<string>): ResourceSet {
  const version = versionOf([...byName.values()].map((c) => c.resource));
  const wildcardPart = wildcard ? `+${[...wildcard].sort().join(',')}` : '';
  return { byName, ...(wildcard ? { wildcard } : {}), version: `${version}${wildcardPart}` };
}

/** True when two sets hold the same resources (by version) with the same wildcard set. */
export function sameResourceSet(a: ResourceSet | undefined, b: ResourceSet | undefined): boolean {
  if (a === b) return true;
  return a !== undefined && b !== undefined && a.version === b.version;
}

/** The snapshot's content hash: nodes, every shared type's version, every service's endpoints version. */
export function snapshotVersion(
  nodes: ReadonlySet<string>,
  shared: ReadonlyMap<string, ResourceSet>,
  endpoints: ReadonlyMap<string, ServiceEndpoints>,
  /** What else the served resources depend on (the ext_proc variants' picking gate), as text. */
  gate = '',
): string {
  const h = createHash('sha256');
  if (gate) h.update(`g\0${gate}\n`);
  for (const n of [...nodes].sort()) h.update(`n\0${n}\n`);
  for (const t of [...shared.keys()].sort()) h.update(`t\0${t}\0${shared.get(t)!.version}\n`);
  for (const s of [...endpoints.keys()].sort()) h.update(`e\0${s}\0${endpoints.get(s)!.version}\n`);
  return h.digest('hex').slice(0, 16);
}
