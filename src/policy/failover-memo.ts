import { insertionSort } from './insertion-sort.js';
import type { LatencyTable } from './latency-table.js';
import type { LocalityAssignment } from './types.js';

/** How a failover level is cut from a latency ranking (see FAILOVER_BAND_* and MAX_FAILOVER_LEVELS in tiers.ts). */
export interface FailoverBands {
  readonly ratio: number;
  readonly ms: number;
  readonly maxLevels: number;
}

/**
 * Cuts a latency ranking into failover levels: walk the nodes in rank order and ask `level` for each.
 * A node shares the current level while it is as reachable as the level's first node and within its
 * band (rtt <= first × (1 + ratio) + ms); the last allowed level takes the rest.
 */
export class FailoverBanding {
  private level_ = 0;
  private lastLevel = 0;
  private started = false;
  // Plain numbers, not number | undefined: such a field would box every RTT it holds.
  private levelStartRtt = 0;
  private levelReachable = false;

  constructor(private readonly bands: FailoverBands) {}

  /** Begin a ranking whose first level is `firstPriority`. */
  start(firstPriority: number): this {
    this.level_ = firstPriority;
    this.lastLevel = firstPriority + this.bands.maxLevels - 1;
    this.started = false;
    return this;
  }

  /** The level of the next node in rank order. */
  level(rtt: number, reachable: boolean): number {
    if (!this.started) {
      this.started = true;
      this.levelStartRtt = rtt;
    } else {
      const sameBand = reachable === this.levelReachable && rtt <= this.levelStartRtt * (1 + this.bands.ratio) + this.bands.ms;
      if (!sameBand && this.level_ < this.lastLevel) {
        this.level_++;
        this.levelStartRtt = rtt;
      }
    }
    this.levelReachable = reachable;
    return this.level_;
  }
}

interface Entry {
  /** The primary localities' content, as the scratch arrays held it. */
  readonly primaryNodes: readonly string[];
  readonly primaryPriorities: readonly number[];
  readonly primaryWeights: readonly number[];
  /** Failover level of every backend column; -1 for a column in the primary level. */
  readonly levels: Int32Array;
  readonly localities: LocalityAssignment[];
}

/**
 * The assembled localities (primary + failover levels, sorted) of one service's latency table, shared
 * by every gateway that ends up with the same content. A full compute assembles one array per
 * gateway and service (10⁶ at 1,000 × 1,000), and most of them repeat: failover levels are latency
 * bands, ordered within a level by weight and name, so gateways whose bands fall the same way get
 * equal arrays. Ranking through the table's typed rows into scratch arrays, and building the objects
 * only for content not seen before, took the allocation of `assemble` (over a quarter of a full
 * compute's garbage: 1.8 of 6.7 GB at 1,000 × 1,000) out of the way. The returned arrays are
 * shared: callers must not change them.
 */
export class FailoverMemo {
  private readonly byHash = new Map<number, Entry[]>();
  private readonly levels: Int32Array;
  /** Scratch: the non-primary columns of the row being ranked, in rank order (first `count`). */
  private readonly order: Int32Array;
  private readonly names: readonly string[];
  private readonly weights: Float64Array;
  /** Row offset the comparator reads (set before each sort). */
  private offset = 0;
  /** Scratch: the primary localities of the row being assembled (first `primaryCount`). */
  private readonly primaryNodes: string[] = [];
  private readonly primaryPriorities: number[] = [];
  private readonly primaryWeights: number[] = [];
  private primaryCount = 0;
  /** The weight scale `addShare` applies (set by localitiesOfShares). */
  private weightScale = 1;
  private readonly banding: FailoverBanding;

  constructor(
    readonly table: LatencyTable,
    bands: FailoverBands,
  ) {
    this.banding = new FailoverBanding(bands);
    this.levels = new Int32Array(table.width);
    this.order = new Int32Array(table.width);
    this.names = table.backends.map((b) => b.node);
    this.weights = Float64Array.from(table.backends, (b) => Math.max(1, b.readyEndpoints));
  }

  /**
   * `primary` at its own priorities, every other backend at failover levels from `firstPriority` on,
   * ranked by `gateway`'s row (reachable first, then RTT, then name), sorted by `sort`. Undefined
   * when `gateway` has no row in the table.
   */
  localities(
    gateway: string,
    primary: readonly LocalityAssignment[],
    firstPriority: number,
    sort: (ls: LocalityAssignment[]) => LocalityAssignment[],
  ): LocalityAssignment[] | undefined {
    const offset = this.begin(gateway);
    if (offset < 0) return undefined;
    for (const l of primary) this.addPrimary(l.node, l.priority, l.weight);
    return this.lookup(offset, firstPriority, sort);
  }

  /**
   * `localities` with a primary level of `shares` at priority 0 (weights as sharesToLocalities makes
   * them), no objects made for it. Undefined also when no share is positive.
   */
  localitiesOfShares(
    gateway: string,
    shares: ReadonlyMap<string, number>,
    weightScale: number,
    firstPriority: number,
    sort: (ls: LocalityAssignment[]) => LocalityAssignment[],
  ): LocalityAssignment[] | undefined {
    const offset = this.begin(gateway);
    if (offset < 0) return undefined;
    this.weightScale = weightScale;
    shares.forEach(this.addShare);
    // No positive share, no assignment (assemble's empty one).
    return this.primaryCount > 0 ? this.lookup(offset, firstPriority, sort) : undefined;
  }

  /** `gateway`'s row offset (-1 when it has none), with the primary scratch emptied. */
  private begin(gateway: string): number {
    this.primaryCount = 0;
    return this.table.offsetOf(gateway);
  }

  /** `shares.forEach` callback (one function for every row, not a closure per call). */
  private readonly addShare = (share: number, node: string): void => {
    if (share > 0) this.addPrimary(node, 0, Math.max(1, Math.round(share * this.weightScale)));
  };

  private addPrimary(node: string, priority: number, weight: number): void {
    const k = this.primaryCount++;
    this.primaryNodes[k] = node;
    this.primaryPriorities[k] = priority;
    this.primaryWeights[k] = weight;
  }

  private lookup(offset: number, firstPriority: number, sort: (ls: LocalityAssignment[]) => LocalityAssignment[]): LocalityAssignment[] {
    this.rank(offset, firstPriority);
    const h = this.hash();
    let bucket = this.byHash.get(h);
    if (!bucket) this.byHash.set(h, (bucket = []));
    for (const e of bucket) if (this.samePrimary(e) && sameLevels(e.levels, this.levels)) return e.localities;
    const n = this.primaryCount;
    const primaryNodes = this.primaryNodes.slice(0, n);
    const primaryPriorities = this.primaryPriorities.slice(0, n);
    const primaryWeights = this.primaryWeights.slice(0, n);
    const out: LocalityAssignment[] = [];
    for (let k = 0; k < n; k++) out.push({ node: primaryNodes[k]!, priority: primaryPriorities[k]!, weight: primaryWeights[k]! });
    for (let j = 0; j < this.levels.length; j++) {
      const level = this.levels[j]!;
      if (level >= 0) out.push({ node: this.names[j]!, priority: level, weight: this.weights[j]! });
    }
    const localities = sort(out);
    bucket.push({ primaryNodes, primaryPriorities, primaryWeights, levels: this.levels.slice(), localities });
    return localities;
  }

  private samePrimary(e: Entry): boolean {
    const n = this.primaryCount;
    if (e.primaryNodes.length !== n) return false;
    for (let k = 0; k < n; k++) {
      if (e.primaryNodes[k] !== this.primaryNodes[k]) return false;
      if (!Object.is(e.primaryPriorities[k], this.primaryPriorities[k]) || !Object.is(e.primaryWeights[k], this.primaryWeights[k]))
        return false;
    }
    return true;
  }

  /** Fills `levels`: -1 for primary columns, a level per other backend (FailoverBanding over the row's ranking). */
  private rank(offset: number, firstPriority: number): void {
    const t = this.table;
    const levels = this.levels;
    levels.fill(0);
    for (let k = 0; k < this.primaryCount; k++) {
      const j = t.column(this.primaryNodes[k]!);
      if (j !== undefined) levels[j] = -1;
    }
    const order = this.order;
    let count = 0;
    let finite = true;
    for (let j = 0; j < levels.length; j++) {
      if (levels[j] === -1) continue;
      if (!Number.isFinite(t.rttMs[offset + j]!)) finite = false;
      order[count++] = j;
    }
    this.offset = offset;
    if (!finite || count > 16) order.subarray(0, count).sort(this.byRank);
    else insertionSort(order, count, this.byRank);
    const banding = this.banding.start(firstPriority);
    for (let k = 0; k < count; k++) {
      const j = order[k]!;
      levels[j] = banding.level(t.rttMs[offset + j]!, t.reachable[offset + j] === 1);
    }
  }

  /** The table's column order in the row at `offset` (set before each sort). */
  private readonly byRank = (a: number, b: number): number => this.table.compareColumns(this.offset, a, b);

  private hash(): number {
    let h = this.primaryCount;
    for (let k = 0; k < this.primaryCount; k++) {
      const node = this.primaryNodes[k]!;
      for (let i = 0; i < node.length; i++) h = Math.imul(h ^ node.charCodeAt(i), 0x01000193);
      h = Math.imul(h ^ this.primaryPriorities[k]!, 0x85ebca6b);
      h = Math.imul(h ^ (this.primaryWeights[k]! | 0), 0xc2b2ae35);
    }
    const levels = this.levels;
    for (let j = 0; j < levels.length; j++) h = Math.imul(h ^ levels[j]!, 0x01000193);
    return h;
  }
}

function sameLevels(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
