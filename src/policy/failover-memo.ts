import type { LatencyTable } from './latency-table.js';
import type { LocalityAssignment } from './types.js';

/** How a failover level is cut from a latency ranking (see FAILOVER_BAND_* and MAX_FAILOVER_LEVELS in tiers.ts). */
export interface FailoverBands {
  readonly ratio: number;
  readonly ms: number;
  readonly maxLevels: number;
}

interface Entry {
  readonly primary: readonly LocalityAssignment[];
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
 * only for content not seen before, took the allocation of `assemble` (a third of a full compute's
 * garbage) out of the way. The returned arrays are shared: callers must not change them.
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

  constructor(
    private readonly table: LatencyTable,
    private readonly bands: FailoverBands,
  ) {
    this.levels = new Int32Array(table.width);
    this.order = new Int32Array(table.width);
    this.names = table.backends.map((b) => b.node);
    this.weights = Float64Array.from(table.backends, (b) => Math.max(1, b.readyEndpoints));
  }

  /**
   * `primary` at its own priorities, every other backend at failover levels from `firstPriority` on,
   * ranked by `offset`'s row (reachable first, then RTT, then name), sorted by `sort`.
   */
  localities(
    offset: number,
    primary: readonly LocalityAssignment[],
    firstPriority: number,
    sort: (ls: LocalityAssignment[]) => LocalityAssignment[],
  ): LocalityAssignment[] {
    this.rank(offset, primary, firstPriority);
    const h = this.hash(primary);
    let bucket = this.byHash.get(h);
    if (!bucket) this.byHash.set(h, (bucket = []));
    for (const e of bucket) if (sameLocalities(e.primary, primary) && sameLevels(e.levels, this.levels)) return e.localities;
    const out: LocalityAssignment[] = [...primary];
    for (let j = 0; j < this.levels.length; j++) {
      const level = this.levels[j]!;
      if (level >= 0) out.push({ node: this.names[j]!, priority: level, weight: this.weights[j]! });
    }
    const localities = sort(out);
    bucket.push({ primary: [...primary], levels: this.levels.slice(), localities });
    return localities;
  }

  /** Fills `levels`: -1 for primary columns, a level per other backend (the banding of failoverLocalities). */
  private rank(offset: number, primary: readonly LocalityAssignment[], firstPriority: number): void {
    const t = this.table;
    const levels = this.levels;
    levels.fill(0);
    for (const p of primary) {
      const j = t.column(p.node);
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
    let level = firstPriority;
    let levelStartRtt: number | undefined;
    let levelReachable: boolean | undefined;
    const lastLevel = firstPriority + this.bands.maxLevels - 1;
    for (let k = 0; k < count; k++) {
      const j = order[k]!;
      const rtt = t.rttMs[offset + j]!;
      const reachable = t.reachable[offset + j] === 1;
      const sameBand =
        levelStartRtt !== undefined && reachable === levelReachable && rtt <= levelStartRtt * (1 + this.bands.ratio) + this.bands.ms;
      if (levelStartRtt !== undefined && !sameBand && level < lastLevel) {
        level++;
        levelStartRtt = rtt;
      }
      levelStartRtt ??= rtt;
      levelReachable = reachable;
      levels[j] = level;
    }
  }

  /** Reachable first, then RTT, then name: tiers.ts byRank on columns (NaN from two infinite RTTs included). */
  private readonly byRank = (a: number, b: number): number => {
    const t = this.table;
    const ra = t.reachable[this.offset + a]!;
    const rb = t.reachable[this.offset + b]!;
    if (ra !== rb) return ra === 1 ? -1 : 1;
    const d = t.rttMs[this.offset + a]! - t.rttMs[this.offset + b]!;
    if (d !== 0) return d;
    const na = this.names[a]!;
    const nb = this.names[b]!;
    return na < nb ? -1 : na > nb ? 1 : 0;
  };

  private hash(primary: readonly LocalityAssignment[]): number {
    let h = primary.length;
    for (const l of primary) {
      const node = l.node;
      for (let i = 0; i < node.length; i++) h = Math.imul(h ^ node.charCodeAt(i), 0x01000193);
      h = Math.imul(h ^ l.priority, 0x85ebca6b);
      h = Math.imul(h ^ (l.weight | 0), 0xc2b2ae35);
    }
    const levels = this.levels;
    for (let j = 0; j < levels.length; j++) h = Math.imul(h ^ levels[j]!, 0x01000193);
    return h;
  }
}

/** Stable in-place insertion sort: the orderings are a handful of columns. */
function insertionSort(xs: Int32Array, count: number, compare: (a: number, b: number) => number): void {
  for (let i = 1; i < count; i++) {
    const x = xs[i]!;
    let j = i - 1;
    while (j >= 0 && compare(xs[j]!, x) > 0) {
      xs[j + 1] = xs[j]!;
      j--;
    }
    xs[j + 1] = x;
  }
}

function sameLocalities(a: readonly LocalityAssignment[], b: readonly LocalityAssignment[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.node !== y.node || !Object.is(x.priority, y.priority) || !Object.is(x.weight, y.weight)) return false;
  }
  return true;
}

function sameLevels(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
