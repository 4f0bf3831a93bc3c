/**
 * Effective RTT and reachability between every pair of known nodes at one instant, in flat typed
 * arrays indexed by node number: a policy run over 1,000 gateways × 1,000 services asks for ~10⁷
 * pairs, and string-keyed lookups dominated the whole computation.
 */
export interface LatencyMatrix {
  /** Node names by index. */
  readonly names: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  /** `rttMs[from * names.length + to]`, exactly what `ModelStore.rttMs` returns. */
  readonly rttMs: Float64Array;
  /** 1 = reachable, 0 = a fresh probe says not; exactly `ModelStore.reachable`. */
  readonly reachable: Uint8Array;
  /**
   * The same two arrays by destination: `rttMsByTo[to * names.length + from]`. A service's policy
   * reads a few destinations (its backends) from every gateway; by destination those are runs of
   * adjacent numbers instead of one cache miss each.
   */
  readonly rttMsByTo: Float64Array;
  readonly reachableByTo: Uint8Array;
}

export interface LatencySources {
  readonly names: readonly string[];
  readonly localRttMs: number;
  readonly defaultRttMs: number;
  /** Configured RTT by from → to. */
  readonly configured: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Measured rows by from → to. */
  readonly measured: ReadonlyMap<
    string,
    ReadonlyMap<string, { readonly rttMs: number; readonly reachable: boolean; readonly atMs: number }>
  >;
  readonly ttlMs: number;
}

export interface BuiltMatrix {
  readonly matrix: LatencyMatrix;
  /** The matrix stays exact for every `nowMs` in [builtAtMs, validUntilMs] (a measured row expires after). */
  readonly validUntilMs: number;
}

export function buildLatencyMatrix(src: LatencySources, nowMs: number): BuiltMatrix {
  const names = src.names;
  const n = names.length;
  const index = new Map<string, number>();
  names.forEach((name, i) => index.set(name, i));
  const rttMs = new Float64Array(n * n);
  const reachable = new Uint8Array(n * n);
  let validUntilMs = Infinity;
  for (let i = 0; i < n; i++) validUntilMs = Math.min(validUntilMs, fillRow(src, index, rttMs, reachable, i, nowMs));
  const rttMsByTo = new Float64Array(n * n);
  const reachableByTo = new Uint8Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      rttMsByTo[j * n + i] = rttMs[i * n + j]!;
      reachableByTo[j * n + i] = reachable[i * n + j]!;
    }
  return { matrix: { names, index, rttMs, reachable, rttMsByTo, reachableByTo }, validUntilMs };
}

/**
 * `previous` with the rows of `from` recomputed from `src` (a probe report replaces one node's row):
 * O(rows × nodes) plus copying the arrays, instead of reading every measured row again. A new
 * matrix, so whoever holds the previous one keeps reading what it read. Undefined when the node set
 * differs (then build it whole).
 */
export function patchLatencyRows(
  previous: BuiltMatrix,
  src: LatencySources,
  from: Iterable<string>,
  nowMs: number,
): BuiltMatrix | undefined {
  const old = previous.matrix;
  const n = old.names.length;
  if (src.names.length !== n || src.names.some((name, i) => old.names[i] !== name)) return undefined;
  const rttMs = old.rttMs.slice();
  const reachable = old.reachable.slice();
  const rttMsByTo = old.rttMsByTo.slice();
  const reachableByTo = old.reachableByTo.slice();
  let validUntilMs = previous.validUntilMs;
  for (const name of from) {
    const i = old.index.get(name);
    if (i === undefined) continue;
    validUntilMs = Math.min(validUntilMs, fillRow(src, old.index, rttMs, reachable, i, nowMs));
    for (let j = 0; j < n; j++) {
      rttMsByTo[j * n + i] = rttMs[i * n + j]!;
      reachableByTo[j * n + i] = reachable[i * n + j]!;
    }
  }
  return { matrix: { names: old.names, index: old.index, rttMs, reachable, rttMsByTo, reachableByTo }, validUntilMs };
}

/** Row `i` from the sources (default, configured, fresh measurements, self); returns when it stops being exact. */
function fillRow(
  src: LatencySources,
  index: ReadonlyMap<string, number>,
  rttMs: Float64Array,
  reachable: Uint8Array,
  i: number,
  nowMs: number,
): number {
  const n = src.names.length;
  const from = src.names[i]!;
  rttMs.fill(src.defaultRttMs, i * n, (i + 1) * n);
  reachable.fill(1, i * n, (i + 1) * n);
  for (const [to, v] of src.configured.get(from) ?? []) {
    const j = index.get(to);
    if (j !== undefined) rttMs[i * n + j] = v;
  }
  let validUntilMs = Infinity;
  for (const [to, m] of src.measured.get(from) ?? []) {
    const j = index.get(to);
    if (j === undefined || nowMs - m.atMs > src.ttlMs) continue;
    validUntilMs = Math.min(validUntilMs, m.atMs + src.ttlMs);
    if (m.reachable) rttMs[i * n + j] = m.rttMs;
    else reachable[i * n + j] = 0;
  }
  rttMs[i * n + i] = src.localRttMs;
  reachable[i * n + i] = 1;
  return validUntilMs;
}
