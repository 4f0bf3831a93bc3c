import type { NodeMessage } from '../../model/gateway-identity.js';
import { buildExtprocClusters, extprocOptedIn, withExtprocListener, type ExtprocAddress } from '../resources/extproc.js';
import { TypeUrl, type ProtoResource } from '../resources/types.js';
import type { Encoder } from './encode.js';
import { resourceSet, type CachedResource, type ResourceSet, type VariantOverlay } from './snapshot.js';

/** Variant of the gateway resources served to Envoy gateways that opt into ext_proc picking. */
export const EXTPROC_VARIANT_PREFIX = 'extproc:';

/** The variant a client sees: ext_proc picking per gateway node when its Node metadata opts in. */
export function extprocVariantOf(node: NodeMessage, gatewayNode: string): string | undefined {
  return extprocOptedIn(node.metadata) ? `${EXTPROC_VARIANT_PREFIX}${gatewayNode}` : undefined;
}

/** What every ext_proc variant of one snapshot shares: built once per routes change. */
export interface ExtprocBase {
  /** The plain gateway listeners the per-node listeners are derived from. */
  readonly gatewayListeners: readonly ProtoResource[];
  /** Route configurations with the picked route first (the same for every opted-in node). */
  readonly routes: ReadonlyMap<string, CachedResource>;
  /** The ext_proc and original-destination clusters. */
  readonly clusters: readonly CachedResource[];
}

export function extprocClusters(address: ExtprocAddress, encoder: Encoder): CachedResource[] {
  return buildExtprocClusters(address).flatMap((r) => encoder.encode(r, undefined) ?? []);
}

/**
 * A pure function of (variant name, base), memoised per base: each opted-in node sees its own
 * listeners (x-proxima-node set to the node) over the shared picked routes and ext_proc clusters.
 */
export class VariantMemo {
  private readonly memo = new Map<string, VariantOverlay | undefined>();

  constructor(
    private readonly base: ExtprocBase,
    private readonly encoder: Encoder,
  ) {}

  get(variant: string): VariantOverlay | undefined {
    if (this.memo.has(variant)) return this.memo.get(variant);
    const overlay = variant.startsWith(EXTPROC_VARIANT_PREFIX) ? this.build(variant.slice(EXTPROC_VARIANT_PREFIX.length)) : undefined;
    this.memo.set(variant, overlay);
    return overlay;
  }

  release(variant: string): void {
    this.memo.delete(variant);
  }

  held(): string[] {
    return [...this.memo.keys()];
  }

  private build(gatewayNode: string): VariantOverlay {
    const byType = new Map<string, Map<string, CachedResource>>();
    const add = (c: CachedResource | undefined): void => {
      if (!c) return;
      let m = byType.get(c.resource.typeUrl);
      if (!m) byType.set(c.resource.typeUrl, (m = new Map()));
      m.set(c.resource.name, c);
    };
    for (const l of this.base.gatewayListeners) add(this.encoder.encode(withExtprocListener(l, gatewayNode), undefined));
    for (const r of this.base.routes.values()) add(r);
    for (const c of this.base.clusters) add(c);
    const overlay = new Map<string, ResourceSet>();
    for (const t of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.RouteConfiguration]) {
      const m = byType.get(t);
      if (m) overlay.set(t, resourceSet(m));
    }
    return overlay;
  }
}
