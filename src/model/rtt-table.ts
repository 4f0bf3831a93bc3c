import type { LatencyEntry } from './types.js';
import { sameMap } from './sameness.js';

/**
 * Configured RTTs by from → to: each entry as given, and its reverse where no entry gives that one
 * (the last of duplicates wins). Nested maps, no composite key strings: a 1,000-node topology lists
 * tens of thousands of pairs, and this runs on every topology load.
 */
export function buildRttTable(latency: readonly LatencyEntry[]): Map<string, Map<string, number>> {
  const table = new Map<string, Map<string, number>>();
  const put = (from: string, to: string, rttMs: number): void => {
    let row = table.get(from);
    if (!row) table.set(from, (row = new Map()));
    row.set(to, rttMs);
  };
  for (const l of latency) put(l.from, l.to, l.rttMs);
  // Chosen against the explicit entries only, before any reverse is added.
  const reverses = latency.filter((l) => table.get(l.to)?.has(l.from) !== true);
  for (const l of reverses) put(l.to, l.from, l.rttMs);
  return table;
}

/** The same pairs with the same RTTs, in whatever order they were given. */
export function sameRttTable(
  a: ReadonlyMap<string, ReadonlyMap<string, number>>,
  b: ReadonlyMap<string, ReadonlyMap<string, number>>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [from, row] of a) {
    const other = b.get(from);
    if (!other || !sameMap(row, other)) return false;
  }
  return true;
}
