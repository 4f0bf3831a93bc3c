import type { ModelChange, ModelStore } from '../model/store.js';
import { evenPolicy } from '../policy/even.js';
import { sameAssignment } from '../policy/tiers.js';
import type { GatewayAssignment, LocalityAssignment, Policy } from '../policy/types.js';
import { policyInputFor } from './policy-input.js';

/** The gateway key used for gateways on nodes the model does not know: they get `even`. */
export const UNKNOWN_GATEWAY = '*';

export interface AssignmentChange {
  /** Services whose assignment changed for at least one gateway (or that were removed). */
  readonly services: ReadonlySet<string>;
  readonly removed: ReadonlySet<string>;
}

export type AssignmentListener = (change: AssignmentChange) => void;

export interface AssignmentEngineOptions {
  readonly store: ModelStore;
  readonly policy: Policy;
  readonly nowMs?: () => number;
  /** Called after each recompute with the number of services computed and the time it took. */
  readonly onRecompute?: (services: number, seconds: number) => void;
}

/**
 * Keeps the current assignment table (service → gateway → localities) in step with the model.
 * Model changes mark services dirty; a recompute runs once per tick for everything dirty, and
 * listeners hear only about services whose assignment really changed.
 */
export class AssignmentEngine {
  private readonly store: ModelStore;
  private policyImpl: Policy;
  private readonly nowMs: () => number;
  private readonly onRecompute: ((services: number, seconds: number) => void) | undefined;
  private readonly table = new Map<string, Map<string, GatewayAssignment>>();
  private readonly listeners = new Set<AssignmentListener>();
  private dirty = new Set<string>();
  private dirtyAll = false;
  private scheduled = false;
  private lastFullMs = 0;
  private lastFullEndMs = -Infinity;
  private unsubscribe: (() => void) | undefined;

  constructor(opts: AssignmentEngineOptions) {
    this.store = opts.store;
    this.policyImpl = opts.policy;
    this.nowMs = opts.nowMs ?? Date.now;
    this.onRecompute = opts.onRecompute;
  }

  get policy(): Policy {
    return this.policyImpl;
  }

  /** Subscribe to the model and compute everything once, synchronously. */
  start(): void {
    this.unsubscribe = this.store.onChange((c) => this.markDirty(c));
    this.dirtyAll = true;
    this.flush();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  setPolicy(policy: Policy): void {
    this.policyImpl = policy;
    this.dirtyAll = true;
    this.flush();
  }

  onChange(listener: AssignmentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Assignment of `service` for a gateway on `gateway` node; unknown nodes get `even`. */
  get(service: string, gateway: string): GatewayAssignment | undefined {
    const perService = this.table.get(service);
    if (!perService) return undefined;
    return perService.get(gateway) ?? perService.get(UNKNOWN_GATEWAY);
  }

  forService(service: string): ReadonlyMap<string, GatewayAssignment> | undefined {
    return this.table.get(service);
  }

  services(): string[] {
    return [...this.table.keys()];
  }

  /** Re-run the policy for everything (e.g. on a timer, so decayed inputs are picked up). */
  invalidateAll(): void {
    this.dirtyAll = true;
    this.schedule();
  }

  private markDirty(change: ModelChange): void {
    if (change.global) this.dirtyAll = true;
    for (const s of change.services) this.dirty.add(s);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A full recompute waits until twice its last duration has passed since it ended, so frequent
    // global inputs (probe reports) cost at most a third of a core even on large clusters.
    const waitMs = this.dirtyAll ? this.lastFullEndMs + 2 * this.lastFullMs - performance.now() : 0;
    if (waitMs > 1) setTimeout(() => this.flush(), waitMs).unref();
    else setImmediate(() => this.flush());
  }

  /** Recompute everything dirty now. Safe to call at any time. */
  flush(): void {
    this.scheduled = false;
    const started = process.hrtime.bigint();
    const full = this.dirtyAll;
    const names = this.dirtyAll ? new Set([...this.store.services().map((s) => s.name), ...this.table.keys()]) : this.dirty;
    this.dirty = new Set();
    this.dirtyAll = false;
    if (names.size === 0) return;
    const gateways = this.store.nodeNames().sort();
    const now = this.nowMs();
    const changed = new Set<string>();
    const removed = new Set<string>();
    for (const name of names) {
      if (!this.store.service(name)) {
        if (this.table.delete(name)) {
          changed.add(name);
          removed.add(name);
        }
        continue;
      }
      const previous = this.table.get(name);
      const next = internAssignments(this.policyImpl.assign(policyInputFor(this.store, name, gateways, now, previous)));
      const fallback = evenPolicy.assign(policyInputFor(this.store, name, [UNKNOWN_GATEWAY], now)).get(UNKNOWN_GATEWAY);
      if (fallback) next.set(UNKNOWN_GATEWAY, { ...fallback, reason: `gateway on an unknown node: ${fallback.reason}` });
      if (!previous || !sameTable(previous, next)) changed.add(name);
      this.table.set(name, next);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (full) {
      this.lastFullMs = seconds * 1000;
      this.lastFullEndMs = performance.now();
    }
    this.onRecompute?.(names.size, seconds);
    if (changed.size > 0) {
      const change: AssignmentChange = { services: changed, removed };
      for (const l of this.listeners) l(change);
    }
  }
}

/**
 * Gateways with equal localities (or reasons) share one frozen array (string): with 1,000 gateways
 * per service most assignments repeat, and keeping a copy per gateway cost gigabytes.
 */
export function internAssignments(table: Map<string, GatewayAssignment>): Map<string, GatewayAssignment> {
  // Candidates by first node: cheaper than a signature string per gateway, and buckets stay small.
  const byFirst = new Map<string, Array<readonly LocalityAssignment[]>>();
  const reasons = new Map<string, string>();
  for (const [gateway, a] of table) {
    const first = a.localities[0]?.node ?? '';
    let bucket = byFirst.get(first);
    if (!bucket) byFirst.set(first, (bucket = []));
    let shared = bucket.find((c) => sameLocalities(c, a.localities));
    if (!shared)
      bucket.push(
        (shared = Object.freeze(a.localities.map((l) => Object.freeze({ node: l.node, priority: l.priority, weight: l.weight })))),
      );
    let reason = reasons.get(a.reason);
    if (reason === undefined) reasons.set(a.reason, (reason = a.reason));
    table.set(gateway, { gateway: a.gateway, service: a.service, localities: shared, reason });
  }
  return table;
}

function sameLocalities(a: readonly LocalityAssignment[], b: readonly LocalityAssignment[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.node !== y.node || x.priority !== y.priority || x.weight !== y.weight) return false;
  }
  return true;
}

function sameTable(a: ReadonlyMap<string, GatewayAssignment>, b: ReadonlyMap<string, GatewayAssignment>): boolean {
  if (a.size !== b.size) return false;
  for (const [g, x] of a) if (!sameAssignment(x, b.get(g))) return false;
  return true;
}
