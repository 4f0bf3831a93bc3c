import { LRUCache } from 'lru-cache';
import type { NodeMessage } from '../../model/gateway-identity.js';
import {
  buildExtprocClusters,
  extprocOptedIn,
  withExtprocListener,
  withPickingSkipped,
  type ExtprocAddress,
} from '../resources/extproc.js';
import { TypeUrl, type ProtoResource } from '../resources/types.js';
import type { Encoder } from './encode.js';
import { resourceSet, type CachedResource, type ResourceSet, type VariantOverlay } from './snapshot.js';

/** Variant of the gateway resources served to Envoy gateways that opt into ext_proc picking. */
export const EXTPROC_VARIANT_PREFIX = 'extproc:';

/** The variant a client sees: ext_proc picking per gateway node when its Node metadata opts in. */
export function extprocVariantOf(node: NodeMessage, gatewayNode: string): string | undefined {
  return extprocOptedIn(node.metadata) ? `${EXTPROC_VARIANT_PREFIX}${gatewayNode}` : undefined;
}

/** Route configurations per set of skipped services (many nodes share one): bounded, rebuilt on a miss. */
type RoutesBySkipped = LRUCache<string, ReadonlyMap<string, CachedResource>>;

/** What every ext_proc variant of one snapshot shares: built once per routes change. */
export interface ExtprocBase {
  /** The plain gateway listeners the per-node listeners are derived from. */
  readonly gatewayListeners: readonly ProtoResource[];
  /** Route configurations with the picked route first, as built (before any route skips picking). */
  readonly pickedRoutes: readonly ProtoResource[];
  /** The same, encoded: what a node that skips no service sees. */
  readonly routes: ReadonlyMap<string, CachedResource>;
  /** The ext_proc and original-destination clusters. */
  readonly clusters: readonly CachedResource[];
  readonly routesBySkipped: RoutesBySkipped;
}

export function extprocBase(parts: Omit<ExtprocBase, 'routesBySkipped'>): ExtprocBase {
  return { ...parts, routesBySkipped: new LRUCache({ max: 64 }) };
}

export function extprocClusters(address: ExtprocAddress, encoder: Encoder): CachedResource[] {
  return buildExtprocClusters(address).flatMap((r) => encoder.encode(r, undefined) ?? []);
}

/** The services for which a gateway node skips the ext_proc round trip (picking-gate.ts), in a stable order. */
export type PickingGate = (gatewayNode: string) => readonly string[];

interface Held {
  readonly skipped: string;
  readonly listeners: readonly CachedResource[];
  readonly overlay: VariantOverlay;
}

/**
 * A pure function of (variant name, base, gate), memoised per snapshot: each opted-in node sees its
 * own listeners (x-proxima-node set to the node), the picked routes with ext_proc disabled on the
 * routes its gate skips, and the ext_proc clusters. An overlay whose inputs did not change since the
 * previous snapshot is that snapshot's object (the cache pushes nothing for it).
 */
export class VariantMemo {
  private readonly memo = new Map<string, Held | undefined>();
  private readonly before: ReadonlyMap<string, Held | undefined> | undefined;

  constructor(
    private readonly base: ExtprocBase,
    private readonly encoder: Encoder,
    private readonly gate: PickingGate,
    previous?: VariantMemo,
  ) {
    // The previous snapshot's entries only (not its own previous): no chain of snapshots is kept alive.
    this.before = previous && previous.base === base ? previous.memo : undefined;
  }

  get(variant: string): VariantOverlay | undefined {
    if (this.memo.has(variant)) return this.memo.get(variant)?.overlay;
    const held = variant.startsWith(EXTPROC_VARIANT_PREFIX) ? this.hold(variant, variant.slice(EXTPROC_VARIANT_PREFIX.length)) : undefined;
    this.memo.set(variant, held);
    return held?.overlay;
  }

  release(variant: string): void {
    this.memo.delete(variant);
  }

  held(): string[] {
    return [...this.memo.keys()];
  }

  private hold(variant: string, gatewayNode: string): Held {
    const skippedList = this.gate(gatewayNode);
    const skipped = skippedList.join('\n');
    const before = this.before?.get(variant);
    if (before && before.skipped === skipped) return before;
    const listeners =
      before?.listeners ??
      this.base.gatewayListeners.flatMap((l) => this.encoder.encode(withExtprocListener(l, gatewayNode), undefined) ?? []);
    const routes = this.routesSkipping(skipped, skippedList);
    const byType = new Map<string, Map<string, CachedResource>>();
    const add = (c: CachedResource): void => {
      let m = byType.get(c.resource.typeUrl);
      if (!m) byType.set(c.resource.typeUrl, (m = new Map()));
      m.set(c.resource.name, c);
    };
    for (const l of listeners) add(l);
    for (const r of routes.values()) add(r);
    for (const c of this.base.clusters) add(c);
    const overlay = new Map<string, ResourceSet>();
    for (const t of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.RouteConfiguration]) {
      const m = byType.get(t);
      if (m) overlay.set(t, resourceSet(m));
    }
    return { skipped, listeners, overlay };
  }

  private routesSkipping(key: string, skippedList: readonly string[]): ReadonlyMap<string, CachedResource> {
    if (skippedList.length === 0) return this.base.routes;
    const cached = this.base.routesBySkipped.get(key);
    if (cached) return cached;
    const skipped = new Set(skippedList);
    const out = new Map<string, CachedResource>();
    for (const r of this.base.pickedRoutes) {
      const value = withPickingSkipped(r, (s) => skipped.has(s));
      const c = value === r ? this.base.routes.get(r.name) : this.encoder.encode(value, this.base.routes.get(r.name));
      if (c) out.set(r.name, c);
    }
    this.base.routesBySkipped.set(key, out);
    return out;
  }
}
