import type { MemoizedInput } from './latency-table.js';
import type { PolicyInput } from './types.js';

/** A gateway's RTT and reachability to each of a service's backends, in `input.backends` order. */
export interface LatencyRow {
  readonly rttMs: readonly number[];
  readonly reachable: readonly number[];
  readonly hash: number;
}

const INACTIVE_ROW: LatencyRow = Object.freeze({ rttMs: [], reachable: [], hash: 0 });

/**
 * Per-service memo keyed by a gateway's latency row. `nearest` and `faast` answer from that row
 * alone, and in a cluster of sites most gateways see the same row (every node of a zone without a
 * local pod), so 1,000 gateways often need a handful of computations. Rows are compared exactly.
 */
export class RowMemo<T> {
  private readonly buckets = new Map<number, Array<{ row: LatencyRow; value: T }>>();
  private lookups = 0;
  private hits = 0;

  // Typed arrays are slow to allocate; one pair serves every lookup.
  private readonly scratchRtt: number[] = [];
  private readonly scratchReachable: number[] = [];

  constructor(
    private readonly input: PolicyInput,
    /** May give up when it does not pay (see `active`): only where a hit equals a computation. */
    private readonly adaptive = false,
  ) {}

  /**
   * The row of `gateway`. Valid until the next call: `set` keeps a copy. Once an adaptive memo is
   * inactive, a placeholder (the row would only be handed to `get` and `set`, which ignore it then):
   * a million rows of a thousand-node cluster are not read twice for nothing.
   */
  row(gateway: string): LatencyRow {
    if (!this.active) return INACTIVE_ROW;
    const backends = this.input.backends;
    const rttMs = this.scratchRtt;
    const reachable = this.scratchReachable;
    // A memoised input's table holds the row already (same values as the two lookups).
    const table = (this.input as Partial<MemoizedInput>).table;
    const at = table && table.backends === backends ? table.offsetOf(gateway) : -1;
    let hash = 17;
    for (let i = 0; i < backends.length; i++) {
      const node = backends[i]!.node;
      const r = at >= 0 ? table!.rttMs[at + i]! : this.input.rttMs(gateway, node);
      const ok = at >= 0 ? table!.reachable[at + i] === 1 : this.input.reachable(gateway, node);
      rttMs[i] = r;
      reachable[i] = ok ? 1 : 0;
      hash = (Math.imul(hash, 31) + (Math.round(r * 1024) | 0) + (ok ? 0 : 7919)) | 0;
    }
    rttMs.length = backends.length;
    reachable.length = backends.length;
    return { rttMs, reachable, hash };
  }

  /**
   * False once an adaptive memo has shown it does not pay: after 64 lookups, fewer than one in 8 found an
   * equal row (every gateway measured its own RTTs: rows never repeat, and copying each one into the
   * memo cost a fifth of a proxima compute). Then `get` finds nothing and `set` keeps nothing; a
   * memo hit is exactly what a computation gives, so this changes no result. Depends only on the
   * input, so every replica decides alike.
   */
  get active(): boolean {
    return !this.adaptive || this.lookups < MIN_LOOKUPS || this.hits * MIN_HIT_RATIO_INVERSE >= this.lookups;
  }

  get(row: LatencyRow): T | undefined {
    if (!this.active) return undefined;
    this.lookups++;
    const bucket = this.buckets.get(row.hash);
    const value = bucket?.find((e) => sameRow(e.row, row))?.value;
    if (value !== undefined) this.hits++;
    return value;
  }

  set(row: LatencyRow, value: T): void {
    if (!this.active) return;
    let bucket = this.buckets.get(row.hash);
    if (!bucket) this.buckets.set(row.hash, (bucket = []));
    bucket.push({ row: { rttMs: [...row.rttMs], reachable: [...row.reachable], hash: row.hash }, value });
  }
}

const MIN_LOOKUPS = 64;
const MIN_HIT_RATIO_INVERSE = 8;

function sameRow(a: LatencyRow, b: LatencyRow): boolean {
  for (let i = 0; i < a.rttMs.length; i++) if (a.rttMs[i] !== b.rttMs[i] || a.reachable[i] !== b.reachable[i]) return false;
  return true;
}
