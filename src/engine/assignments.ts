import type { ModelChange, ModelStore } from '../model/store.js';
import { evenPolicy } from '../policy/even.js';
import { sameAssignment, sameLocalities } from '../policy/tiers.js';
import type { GatewayAssignment, LocalityAssignment, Policy } from '../policy/types.js';
import { affectedByLinks, type MovedLinks } from './affected.js';
import { policyInputFor } from './policy-input.js';
import { reasonText } from '../policy/reason.js';

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
  /** Measured links that moved since the last recompute (only when nothing global else changed). */
  private dirtyLinks = new Map<string, Set<string>>();
  private scheduled = false;
  private lastFullMs = 0;
  private lastFullEndMs = -Infinity;
  private unsubscribe: (() => void) | undefined;
  /** Who runs `flush` when something is dirty: the engine's own timer, or a reconcile tick (see driveBy). */
  private driver: (() => void) | undefined;

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
    if (change.global && change.rttLinks && !this.dirtyAll) {
      for (const [from, to] of change.rttLinks) {
        let set = this.dirtyLinks.get(from);
        if (!set) this.dirtyLinks.set(from, (set = new Set()));
        for (const t of to) set.add(t);
      }
    } else if (change.global) this.dirtyAll = true;
    for (const s of change.services) this.dirty.add(s);
    this.schedule();
  }

  /**
   * Let `request` decide when to flush (the control plane's reconcile tick): the engine then keeps no
   * timer of its own and only says that it has work. See notBeforeMs for the full-recompute budget.
   */
  driveBy(request: () => void): void {
    this.driver = request;
  }

  /**
   * Earliest time (performance.now() clock) a full recompute should start: twice its last duration
   * after it ended, so frequent global inputs (probe reports) cost at most a third of a core even on
   * large clusters. 0 when no full recompute is pending.
   */
  notBeforeMs(): number {
    return this.dirtyAll ? this.lastFullEndMs + 2 * this.lastFullMs : 0;
  }

  private schedule(): void {
    if (this.driver) return this.driver();
    if (this.scheduled) return;
    this.scheduled = true;
    const waitMs = this.notBeforeMs() - performance.now();
    if (waitMs > 1) setTimeout(() => this.flush(), waitMs).unref();
    else setImmediate(() => this.flush());
  }

  /**
   * Moved links → the work they cause: services a joint policy must recompute join `names`; rows of
   * a row-independent policy are returned per service (services already in `names` are skipped).
   */
  private linkWork(names: Set<string>, links: MovedLinks): Map<string, string[]> {
    const candidates = [...this.table.keys()].filter((s) => !names.has(s));
    const p = this.policyImpl;
    const work = affectedByLinks(this.store, candidates, links, p.rowIndependent ? 'row' : p.idleRowIndependent ? 'idle-row' : 'joint');
    for (const s of work.services) names.add(s);
    return work.rows;
  }

  /** Recompute everything dirty now. Safe to call at any time. */
  flush(): void {
    this.scheduled = false;
    const started = process.hrtime.bigint();
    const full = this.dirtyAll;
    const names = this.dirtyAll ? new Set([...this.store.services().map((s) => s.name), ...this.table.keys()]) : this.dirty;
    const links = this.dirtyLinks;
    this.dirty = new Set();
    this.dirtyAll = false;
    this.dirtyLinks = new Map();
    const rows = full || links.size === 0 ? undefined : this.linkWork(names, links);
    if (names.size === 0 && !rows?.size) return;
    const gateways = this.store.nodeNames().sort();
    const now = this.nowMs();
    const changed = new Set<string>();
    const removed = new Set<string>();
    for (const [name, gatewayRows] of rows ?? []) {
      const previous = this.table.get(name)!;
      // A row-independent policy sees only the rows; an idle-row one the whole problem, asked for the rows.
      const input = this.policyImpl.rowIndependent
        ? policyInputFor(this.store, name, gatewayRows, now, previous)
        : policyInputFor(this.store, name, gateways, now, previous, new Set(gatewayRows));
      const computed = this.policyImpl.assign(input);
      const moved = gatewayRows.filter((g) => !sameAssignment(previous.get(g), computed.get(g)));
      if (moved.length === 0) continue;
      const next = new Map(previous);
      const known = knownLocalities(previous);
      for (const g of moved) next.set(g, internRow(computed.get(g)!, known));
      changed.add(name);
      this.table.set(name, next);
    }
    for (const name of names) {
      if (!this.store.service(name)) {
        if (this.table.delete(name)) {
          changed.add(name);
          removed.add(name);
        }
        continue;
      }
      const previous = this.table.get(name);
      const next = internAssignments(this.policyImpl.assign(policyInputFor(this.store, name, gateways, now, previous)), previous);
      const fallback = evenPolicy.assign(policyInputFor(this.store, name, [UNKNOWN_GATEWAY], now)).get(UNKNOWN_GATEWAY);
      if (fallback) next.set(UNKNOWN_GATEWAY, { ...fallback, reason: `gateway on an unknown node: ${reasonText(fallback.reason)}` });
      // An unchanged row set keeps its identity: the snapshot builder reuses what it built from it.
      if (previous && sameTable(previous, next)) continue;
      changed.add(name);
      this.table.set(name, next);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (full) {
      this.lastFullMs = seconds * 1000;
      this.lastFullEndMs = performance.now();
    }
    this.onRecompute?.(names.size + (rows?.size ?? 0), seconds);
    if (changed.size > 0) {
      const change: AssignmentChange = { services: changed, removed };
      for (const l of this.listeners) l(change);
    }
  }
}

/**
 * Gateways with equal localities (or reasons) share one array of frozen entries (one string): with 1,000 gateways
 * per service most assignments repeat, and keeping a copy per gateway cost gigabytes. Equal arrays
 * are found through a numeric hash of their content: a linear search among a service's distinct
 * arrays cost a quarter of a full compute when most gateways have their own, and a string key per
 * gateway a tenth.
 */
export function internAssignments(
  table: Map<string, GatewayAssignment>,
  previous?: ReadonlyMap<string, GatewayAssignment>,
): Map<string, GatewayAssignment> {
  // Rows equal to a previous one keep its array: the snapshot build finds their encoding by identity.
  const known = previous ? knownLocalities(previous) : new LocalitiesPool();
  const reasons = new Map<string, string>();
  const replaced = new Map<GatewayAssignment, GatewayAssignment>();
  for (const [gateway, a] of table) {
    const given = a.reason;
    // De-duplicating a long reason makes V8 flatten the concatenation it is built from, which costs
    // time, but skipping it kept every part of every concatenation alive: +43 % heap after a proxima
    // full compute at 700 nodes (230 → 331 MiB). Memory wins. A lazy reason (proxima's) is no string.
    let reason = given;
    if (typeof given === 'string') {
      reason = reasons.get(given) ?? given;
      if (reason === given) reasons.set(given, given);
    }
    const localities = known.intern(a.localities);
    // An adopted array (see LocalitiesPool.intern) keeps the policy's row object as it is, unless
    // its reason is a string: === cannot tell the pooled instance from an equal copy, so the row
    // always takes the pooled one.
    if (localities === a.localities && typeof given !== 'string') continue;
    // A row the policy gave several gateways stays one object.
    let row = replaced.get(a);
    if (!row) replaced.set(a, (row = { service: a.service, localities, reason }));
    table.set(gateway, row);
  }
  return table;
}

/** One recomputed row, sharing an equal localities array of its service when there is one. */
function internRow(a: GatewayAssignment, known: LocalitiesPool): GatewayAssignment {
  return { service: a.service, localities: known.intern(a.localities), reason: a.reason };
}

/** A service's distinct localities arrays (each array hashed once, however many rows share it). */
function knownLocalities(rows: ReadonlyMap<string, GatewayAssignment>): LocalitiesPool {
  const pool = new LocalitiesPool();
  const arrays = new Set<readonly LocalityAssignment[]>();
  for (const a of rows.values()) arrays.add(a.localities);
  for (const ls of arrays) pool.add(ls);
  return pool;
}

/** Frozen localities arrays by content. */
class LocalitiesPool {
  private readonly byHash = new Map<number, Array<readonly LocalityAssignment[]>>();
  /** Arrays already interned, by identity: a policy hands the same array to a whole class of gateways. */
  private readonly seen = new Map<readonly LocalityAssignment[], readonly LocalityAssignment[]>();

  add(ls: readonly LocalityAssignment[]): void {
    const h = localitiesHash(ls);
    const bucket = this.byHash.get(h);
    if (!bucket) this.byHash.set(h, [ls]);
    else if (!bucket.some((c) => sameLocalities(c, ls))) bucket.push(ls);
  }

  /** The pooled array equal to `ls`, or a copy of it (entries frozen), pooled. */
  intern(ls: readonly LocalityAssignment[]): readonly LocalityAssignment[] {
    const known = this.seen.get(ls);
    if (known) return known;
    const h = localitiesHash(ls);
    let bucket = this.byHash.get(h);
    if (!bucket) this.byHash.set(h, (bucket = []));
    let pooled = bucket.find((c) => sameLocalities(c, ls));
    if (!pooled) {
      // The entries are frozen, the array only readonly by type: V8 (Node 20) walks a frozen array
      // several times slower, and every policy, hysteresis and snapshot pass walks these. A policy's
      // own array of plain entries is adopted (its entries frozen where they are: policies hand
      // finished arrays over and never change them); anything else is copied.
      pooled = ls.every(isPlainLocality) ? ls : ls.map((l) => ({ node: l.node, priority: l.priority, weight: l.weight }));
      for (const l of pooled) Object.freeze(l);
      bucket.push(pooled);
    }
    // A pool lives for one intern pass over a policy's finished output: no array changes meanwhile.
    this.seen.set(ls, pooled);
    return pooled;
  }
}

function localitiesHash(ls: readonly LocalityAssignment[]): number {
  let h = ls.length;
  for (const l of ls) {
    const node = l.node;
    for (let i = 0; i < node.length; i++) h = Math.imul(h ^ node.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ l.priority, 0x85ebca6b);
    h = Math.imul(h ^ (l.weight | 0), 0xc2b2ae35);
  }
  return h;
}

/** An object with exactly the three fields of a locality (nothing a copy would drop). */
function isPlainLocality(l: LocalityAssignment): boolean {
  let n = 0;
  for (const k in l) if (++n > 3 || (k !== 'node' && k !== 'priority' && k !== 'weight')) return false;
  return n === 3 && Object.getPrototypeOf(l) === Object.prototype;
}

/** Localities as a string: equal strings, equal routing (the snapshot's encoding memo key). */
export function localitiesKey(ls: readonly LocalityAssignment[]): string {
  let key = '';
  for (const l of ls) key += `${l.node}\u0000${l.priority}\u0000${l.weight}\u0001`;
  return key;
}
function sameTable(a: ReadonlyMap<string, GatewayAssignment>, b: ReadonlyMap<string, GatewayAssignment>): boolean {
  if (a.size !== b.size) return false;
  for (const [g, x] of a) if (!sameAssignment(x, b.get(g))) return false;
  return true;
}
