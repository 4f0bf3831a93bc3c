import type { ModelStore } from '../model/store.js';

/**
 * Pending placements: after prioritize, the best-scored node is the scheduler's likely choice for
 * the pod. Until the pod is ready it is capacity on its way: the next pod of the same service is
 * scored with it counted (so two quick scale-ups do not both land on the same node), and the model
 * sees it through ModelStore.setPendingPods. An entry goes away when a new ready endpoint of the
 * service appears on that node (fulfilled) or after `ttlMs` (expired: the pod went elsewhere, failed
 * or is still pulling its image). Endpoints carry no pod name, so "appeared" means the node's ready
 * endpoint count rose above what it was when the pod was placed.
 */

export interface Placement {
  /** Pod uid, else `namespace/name`. */
  readonly podKey: string;
  /** `namespace/name` for humans. */
  readonly pod: string;
  readonly service: string;
  readonly node: string;
  readonly score: number;
  readonly placedAtMs: number;
  readonly expiresAtMs: number;
  /** Ready endpoints of the service on the node when the pod was placed. */
  readonly readyAtPlacement: number;
}

export interface ReconcileResult {
  readonly fulfilled: readonly Placement[];
  readonly expired: readonly Placement[];
  /** Services whose pending counts changed. */
  readonly services: ReadonlySet<string>;
}

export class PendingPlacements {
  private readonly byPod = new Map<string, Placement>();

  constructor(
    readonly ttlMs: number,
    /** Placements kept at most; a new pod beyond this is not recorded (a retried pod still is). */
    readonly maxPending = Infinity,
  ) {}

  get size(): number {
    return this.byPod.size;
  }

  /**
   * Record (or replace, on a scheduling retry) the likely placement of a pod. Returns touched
   * services, or undefined when `maxPending` placements are already kept.
   */
  place(p: Omit<Placement, 'placedAtMs' | 'expiresAtMs'>, nowMs: number): Set<string> | undefined {
    const old = this.byPod.get(p.podKey);
    if (!old && this.byPod.size >= this.maxPending) return undefined;
    const touched = new Set([p.service]);
    if (old) touched.add(old.service);
    this.byPod.set(p.podKey, { ...p, placedAtMs: nowMs, expiresAtMs: nowMs + this.ttlMs });
    return touched;
  }

  /** Pending pods of `service` per node, leaving out `excludePodKey` (the pod being scored). */
  countsFor(service: string, excludePodKey?: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of this.byPod.values()) {
      if (p.service !== service || p.podKey === excludePodKey) continue;
      out.set(p.node, (out.get(p.node) ?? 0) + 1);
    }
    return out;
  }

  /** Drop expired entries and those whose pod has (very likely) become a ready endpoint. */
  reconcile(readyOn: (service: string, node: string) => number, nowMs: number): ReconcileResult {
    const fulfilled: Placement[] = [];
    const expired: Placement[] = [];
    const groups = new Map<string, Placement[]>();
    for (const p of this.byPod.values()) {
      if (nowMs >= p.expiresAtMs) {
        expired.push(p);
        continue;
      }
      const k = `${p.service}\u0000${p.node}`;
      const g = groups.get(k);
      if (g) g.push(p);
      else groups.set(k, [p]);
    }
    for (const group of groups.values()) {
      group.sort((a, b) => a.placedAtMs - b.placedAtMs || (a.podKey < b.podKey ? -1 : 1));
      const readyNow = readyOn(group[0]!.service, group[0]!.node);
      let matched = 0;
      for (const p of group) {
        // The k-th oldest placement is fulfilled once k+1 endpoints appeared since it was placed.
        if (readyNow - p.readyAtPlacement > matched) {
          fulfilled.push(p);
          matched++;
        }
      }
    }
    const services = new Set<string>();
    for (const p of [...fulfilled, ...expired]) {
      this.byPod.delete(p.podKey);
      services.add(p.service);
    }
    return { fulfilled, expired, services };
  }

  list(): Placement[] {
    return [...this.byPod.values()].sort((a, b) => a.placedAtMs - b.placedAtMs || (a.podKey < b.podKey ? -1 : 1));
  }
}

/** Ready endpoints of `service` on `node` in the model. */
export function readyEndpointsOn(store: ModelStore, service: string, node: string): number {
  let n = 0;
  for (const e of store.service(service)?.endpoints ?? []) if (e.node === node && e.ready && !e.pending) n++;
  return n;
}

/** Publish the pending counts of `services` to the model. */
export function publishPending(store: ModelStore, placements: PendingPlacements, services: Iterable<string>): void {
  for (const s of services) store.setPendingPods(s, placements.countsFor(s));
}
