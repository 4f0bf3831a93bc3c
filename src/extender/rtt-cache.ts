import type { ModelStore } from '../model/store.js';

/** RTT and reachability lookups as the scorer needs them. */
export interface RttView {
  rttMs(from: string, to: string): number;
  reachable(from: string, to: string): boolean;
  /** For each `from`, the RTT to every `to` in order; -1 where `to` is unreachable from `from`. */
  rows(froms: readonly string[], tos: readonly string[]): Float64Array[];
}

/** rows() from single lookups, for views without a faster way. */
export function rowsFromLookups(
  view: Pick<RttView, 'rttMs' | 'reachable'>,
  froms: readonly string[],
  tos: readonly string[],
): Float64Array[] {
  return froms.map((f) => Float64Array.from(tos, (t) => (view.reachable(f, t) ? view.rttMs(f, t) : UNREACHABLE)));
}

/** Straight from the store (each lookup builds a string key: ~1 µs). */
export function storeRttView(store: ModelStore, nowMs: number): RttView {
  const single = {
    rttMs: (a: string, b: string) => store.rttMs(a, b, nowMs),
    reachable: (a: string, b: string) => store.reachable(a, b, nowMs),
  };
  return { ...single, rows: (froms, tos) => rowsFromLookups(single, froms, tos) };
}

export const UNREACHABLE = -1;

/**
 * Memoised RTT rows per source node over the store's node index, so scoring one pod against 1,000
 * nodes reads arrays instead of doing tens of thousands of keyed store lookups. Rows are dropped
 * when the model changed and they are older than `refreshMs`, and always after a quarter of the
 * measurement TTL (measurements age out without a model change). `refreshMs: 0` never serves a row
 * from an older model generation.
 */
export class RttCache {
  private index = new Map<string, number>();
  private rows = new Map<string, Float64Array>();
  private builtAtMs = -Infinity;
  private generation = -1;

  constructor(
    private readonly store: ModelStore,
    private readonly refreshMs = 1000,
  ) {}

  view(nowMs: number): RttView {
    const age = nowMs - this.builtAtMs;
    const stale = age < 0 || age >= this.store.measuredRttTtlMs / 4 || (this.generation !== this.store.generation && age >= this.refreshMs);
    if (stale) {
      this.index = new Map(this.store.nodeNames().map((n, i) => [n, i] as const));
      this.rows.clear();
      this.builtAtMs = nowMs;
      this.generation = this.store.generation;
    }
    const lookup = (from: string, to: string): number => {
      const j = this.index.get(to);
      if (j === undefined) return this.compute(from, to, nowMs);
      const row = this.rowOf(from);
      let v = row[j]!;
      if (Number.isNaN(v)) {
        v = this.compute(from, to, nowMs);
        row[j] = v;
      }
      return v;
    };
    const rows = (froms: readonly string[], tos: readonly string[]): Float64Array[] => {
      const idx = tos.map((t) => this.index.get(t) ?? -1);
      return froms.map((from) => {
        const row = this.rowOf(from);
        const out = new Float64Array(tos.length);
        for (let j = 0; j < tos.length; j++) {
          const i = idx[j]!;
          let v = i >= 0 ? row[i]! : this.compute(from, tos[j]!, nowMs);
          if (Number.isNaN(v)) {
            v = this.compute(from, tos[j]!, nowMs);
            row[i] = v;
          }
          out[j] = v;
        }
        return out;
      });
    };
    const defaults = this.store.defaults;
    return {
      rttMs: (from, to) => {
        const v = lookup(from, to);
        return v === UNREACHABLE ? (this.store.configuredRttMs(from, to) ?? defaults.rttMs) : v;
      },
      reachable: (from, to) => lookup(from, to) !== UNREACHABLE,
      rows,
    };
  }

  private rowOf(from: string): Float64Array {
    let row = this.rows.get(from);
    if (!row) {
      row = new Float64Array(this.index.size).fill(NaN);
      this.rows.set(from, row);
    }
    return row;
  }

  /** store.rttMs + store.reachable with one measurement lookup instead of two. */
  private compute(from: string, to: string, nowMs: number): number {
    if (from === to) return this.store.defaults.localRttMs;
    const m = this.store.measured(from, to, nowMs);
    if (m) return m.reachable ? m.rttMs : UNREACHABLE;
    return this.store.configuredRttMs(from, to) ?? this.store.defaults.rttMs;
  }
}
