import type { FailoverMemo } from './failover-memo.js';
import type { NodeCapacity, PolicyInput } from './types.js';

/**
 * One pair of scratch arrays shared by the tables of successive policy runs: a table per service of
 * a 1,000-gateway cluster is ~90 KB, and allocating one per service per recompute kept the garbage
 * collector busy. The newest table owns the scratch; an older one still in use moves to arrays of
 * its own and reads its rows from the input again (see LatencyTable.offsetOf), so sharing never
 * changes what a table reads.
 */
const scratch = { owner: 0, rttMs: new Float64Array(0), reachable: new Uint8Array(0) };
let tables = 0;

/** Gateway → index, per gateway list: the engine hands every service of one recompute the same list. */
const indexes = new WeakMap<readonly string[], Map<string, number>>();
function indexOf(names: readonly string[]): Map<string, number> {
  let index = indexes.get(names);
  if (!index) {
    index = new Map();
    names.forEach((g, i) => index!.set(g, i));
    indexes.set(names, index);
  }
  return index;
}

/**
 * RTT and reachability from every gateway of one service's input to each of its backends, in flat
 * typed arrays (row = gateway index, column = backend index), filled on first use. The solver, the
 * idle-gateway routes, the failover ordering and the explanations all read the same pairs; reading
 * them here costs an array access instead of two string-keyed lookups. Read `rttMs` / `reachable`
 * only at an offset `offsetOf` just returned.
 */
export class LatencyTable {
  readonly width: number;
  rttMs: Float64Array;
  /** 1 = reachable, 0 = not. */
  reachable: Uint8Array;
  /** The assembled localities of this table's service (tiers.ts), made on first assembly. */
  failoverMemo: FailoverMemo | undefined;
  private readonly id = ++tables;
  private readonly filled: Uint8Array;
  private readonly gatewayIndex: ReadonlyMap<string, number>;
  private readonly backendIndex = new Map<string, number>();
  private lastGateway: string | undefined;
  private lastOffset = -1;

  constructor(
    private readonly input: PolicyInput,
    readonly backends: readonly NodeCapacity[],
  ) {
    this.gatewayIndex = indexOf(input.gateways);
    backends.forEach((b, j) => this.backendIndex.set(b.node, j));
    this.width = backends.length;
    const size = input.gateways.length * this.width;
    if (scratch.rttMs.length < size) {
      scratch.rttMs = new Float64Array(size);
      scratch.reachable = new Uint8Array(size);
    }
    scratch.owner = this.id;
    this.rttMs = scratch.rttMs.subarray(0, size);
    this.reachable = scratch.reachable.subarray(0, size);
    this.filled = new Uint8Array(input.gateways.length);
  }

  /** Index of `gateway` in the input's gateways, undefined when it is not one. */
  indexOf(gateway: string): number | undefined {
    return this.gatewayIndex.get(gateway);
  }

  /**
   * Rank order of columns `a` and `b` in the row at `offset`: reachable first, then RTT, then node
   * name (tiers.ts byRank). A sign, not the RTT difference: a double returned from a comparator the
   * sort does not inline is boxed; NaN (two infinite RTTs) compares as a tie either way.
   */
  compareColumns(offset: number, a: number, b: number): number {
    const ra = this.reachable[offset + a]!;
    const rb = this.reachable[offset + b]!;
    if (ra !== rb) return ra === 1 ? -1 : 1;
    const d = this.rttMs[offset + a]! - this.rttMs[offset + b]!;
    if (d !== 0) return d < 0 ? -1 : d > 0 ? 1 : 0;
    const na = this.backends[a]!.node;
    const nb = this.backends[b]!.node;
    return na < nb ? -1 : na > nb ? 1 : 0;
  }

  /** Column of `node`, undefined when it is not a backend. */
  column(node: string): number | undefined {
    return this.backendIndex.get(node);
  }

  /** Offset of the row of the input's `index`-th gateway (filled). */
  offsetAt(index: number): number {
    if (scratch.owner !== this.id && this.rttMs.buffer === scratch.rttMs.buffer) this.copyOut();
    if (this.filled[index] === 0) this.fillRow(index);
    return index * this.width;
  }

  /** Offset of `gateway`'s row in `rttMs` / `reachable` (filled), or -1 when it is not a gateway of the input. */
  offsetOf(gateway: string): number {
    if (scratch.owner !== this.id && this.rttMs.buffer === scratch.rttMs.buffer) this.copyOut();
    if (gateway === this.lastGateway) return this.lastOffset;
    const i = this.gatewayIndex.get(gateway);
    this.lastGateway = gateway;
    this.lastOffset = i === undefined ? -1 : i * this.width;
    if (i !== undefined && this.filled[i] === 0) this.fillRow(i);
    return this.lastOffset;
  }

  private fillRow(index: number): void {
    if (this.input.latencyRows) {
      // One pass by destination fills every row: most callers walk every gateway anyway.
      this.input.latencyRows(this.input.gateways, this.backends, this.rttMs, this.reachable);
      this.filled.fill(1);
    } else {
      this.filled[index] = 1;
      this.fill(this.input.gateways[index]!, index * this.width);
    }
  }

  /** A newer table took the scratch arrays: go on with arrays of its own, every row to be read again. */
  private copyOut(): void {
    const rttMs = new Float64Array(this.rttMs.length);
    const reachable = new Uint8Array(this.reachable.length);
    this.filled.fill(0);
    this.rttMs = rttMs;
    this.reachable = reachable;
    this.lastGateway = undefined;
  }

  private fill(gateway: string, at: number): void {
    for (let j = 0; j < this.width; j++) {
      const b = this.backends[j]!.node;
      this.rttMs[at + j] = this.input.rttMs(gateway, b);
      this.reachable[at + j] = this.input.reachable(gateway, b) ? 1 : 0;
    }
  }
}

/** A policy input whose RTT and reachability to its backends are read through a LatencyTable (`memoizeInput` in shares.ts). */
export interface MemoizedInput extends PolicyInput {
  readonly table: LatencyTable;
}

/**
 * The same input over `backends` (default: its own) with RTT, reachability and per-node lookups
 * cached: the solver, the failover ordering and the explanations ask for the same pairs many times.
 */
export function memoizeInput(input: PolicyInput, backends: readonly NodeCapacity[] = input.backends): MemoizedInput {
  const table = new LatencyTable(input, backends);
  const others = new Map<string, { rttMs: number; reachable: boolean }>();
  const other = (a: string, b: string) => {
    const key = `${a}\u0000${b}`;
    let v = others.get(key);
    if (!v) others.set(key, (v = { rttMs: input.rttMs(a, b), reachable: input.reachable(a, b) }));
    return v;
  };
  const rttMs = (a: string, b: string): number => {
    const o = table.offsetOf(a);
    const j = o < 0 ? undefined : table.column(b);
    return j !== undefined ? table.rttMs[o + j]! : other(a, b).rttMs;
  };
  const reachable = (a: string, b: string): boolean => {
    const o = table.offsetOf(a);
    const j = o < 0 ? undefined : table.column(b);
    return j !== undefined ? table.reachable[o + j] === 1 : other(a, b).reachable;
  };
  const nodeCache = <T>(fn: (n: string) => T) => {
    const m = new Map<string, T>();
    return (n: string): T => {
      if (!m.has(n)) m.set(n, fn(n));
      return m.get(n) as T;
    };
  };
  const serviceLoadRps = input.serviceLoadRps;
  const podQueueWait = input.podQueueWait;
  return {
    service: input.service,
    gateways: input.gateways,
    backends,
    table,
    rttMs,
    reachable,
    demandRps: nodeCache((g) => input.demandRps(g)),
    serviceTimeMs: nodeCache((n) => input.serviceTimeMs(n)),
    ...(serviceLoadRps ? { serviceLoadRps: nodeCache((n) => serviceLoadRps.call(input, n)) } : {}),
    ...(podQueueWait ? { podQueueWait: nodeCache((n) => podQueueWait.call(input, n)) } : {}),
    ...(input.previous ? { previous: input.previous } : {}),
    ...(input.rows ? { rows: input.rows } : {}),
  };
}
