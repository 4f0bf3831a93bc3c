import type { GatewayAssignment, LocalityAssignment, NodeCapacity, PolicyInput, Reason } from './types.js';
import { WEIGHT_SCALE } from './types.js';
import type { LatencyTable } from './latency-table.js';
import { FailoverBanding, FailoverMemo, type FailoverBands } from './failover-memo.js';
import { insertionSort } from './insertion-sort.js';

/** At most this many failover priorities below the primary one; the rest share the last level. */
export const MAX_FAILOVER_LEVELS = 6;

/** Nodes of `backends` sorted by RTT from `gateway` (unreachable last, ties by name). */
export function byLatency(input: PolicyInput, gateway: string, backends: readonly NodeCapacity[] = input.backends): NodeCapacity[] {
  return rankByLatency(input, gateway, backends).map((r) => r.backend);
}

interface Ranked {
  readonly backend: NodeCapacity;
  readonly rttMs: number;
  readonly reachable: boolean;
}

/** `byLatency` with each node's RTT and reachability, looked up once per node rather than per comparison. */
function rankByLatency(input: PolicyInput, gateway: string, backends: readonly NodeCapacity[]): Ranked[] {
  const ranked = backends.map((b) => ({ backend: b, rttMs: input.rttMs(gateway, b.node), reachable: input.reachable(gateway, b.node) }));
  return ranked.sort(byRank);
}

function byRank(a: Ranked, b: Ranked): number {
  if (a.reachable !== b.reachable) return a.reachable ? -1 : 1;
  const d = a.rttMs - b.rttMs;
  return d !== 0 ? d : a.backend.node < b.backend.node ? -1 : a.backend.node > b.backend.node ? 1 : 0;
}

/**
 * RTTs within this band of a level's first (nearest) node share the level, so measurement noise
 * does not reshuffle failover order on every probe: rtt <= first × (1 + FAILOVER_BAND_RATIO) + FAILOVER_BAND_MS.
 */
export const FAILOVER_BAND_RATIO = 0.25;
export const FAILOVER_BAND_MS = 2;
const BANDS: FailoverBands = { ratio: FAILOVER_BAND_RATIO, ms: FAILOVER_BAND_MS, maxLevels: MAX_FAILOVER_LEVELS };

/**
 * Failover levels for the nodes that are not in priority 0: ordered by latency from the gateway,
 * one level per latency band (see FAILOVER_BAND_*), at most MAX_FAILOVER_LEVELS levels (the last
 * takes the remainder); unreachable nodes never share a level with reachable ones. Weights within
 * a level follow ready endpoint counts, so a failover level spreads like `even`.
 */
function failoverLocalities(
  input: PolicyInput,
  gateway: string,
  primary: ReadonlySet<string>,
  firstPriority: number,
): LocalityAssignment[] {
  const rest = rankByLatency(
    input,
    gateway,
    input.backends.filter((b) => !primary.has(b.node)),
  );
  const banding = new FailoverBanding(BANDS).start(firstPriority);
  return rest.map(({ backend: b, rttMs, reachable }) => ({
    node: b.node,
    priority: banding.level(rttMs, reachable),
    weight: Math.max(1, b.readyEndpoints),
  }));
}

/** Turn shares (summing to ~1) into integer weights >= 1 at WEIGHT_SCALE. */
export function sharesToLocalities(shares: ReadonlyMap<string, number>, priority: number): LocalityAssignment[] {
  const out: LocalityAssignment[] = [];
  for (const [node, share] of shares) {
    if (!(share > 0)) continue;
    out.push({ node, priority, weight: Math.max(1, Math.round(share * WEIGHT_SCALE)) });
  }
  return out;
}

const byPriorityWeightNode = (a: LocalityAssignment, b: LocalityAssignment): number =>
  a.priority - b.priority || b.weight - a.weight || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);

/** Localities by priority, then heaviest first, then node name; sorted in place. */
export function sortLocalities(ls: LocalityAssignment[]): LocalityAssignment[] {
  return sortSmall(
    ls,
    byPriorityWeightNode,
    ls.every((l) => Number.isFinite(l.priority) && Number.isFinite(l.weight)),
  );
}

/**
 * `xs.sort(compare)`, in place. Assignments and failover rankings are a handful of entries and
 * there is one per gateway and service: a stable insertion sort beats Array.prototype.sort's set-up
 * several times over. When `consistent` (the comparator is a total preorder on `xs`: no NaN from
 * non-finite numbers) every stable sort gives the same array; otherwise, or when long, sort() decides.
 */
function sortSmall<T>(xs: T[], compare: (a: T, b: T) => number, consistent: boolean): T[] {
  if (!consistent || xs.length > 16) return xs.sort(compare);
  insertionSort(xs, xs.length, compare);
  return xs;
}

/** The failover memo of a memoised input (one per latency table, living as long as it); undefined for other inputs. */
function memoFor(input: PolicyInput): FailoverMemo | undefined {
  const t = (input as PolicyInput & { readonly table?: LatencyTable }).table;
  if (!t || t.backends !== input.backends) return undefined;
  return (t.failoverMemo ??= new FailoverMemo(t, BANDS));
}

/** `assemble(input, gateway, sharesToLocalities(shares, 0), reason)`, without making the primary level's objects for content seen before. */
export function assembleShares(
  input: PolicyInput,
  gateway: string,
  shares: ReadonlyMap<string, number>,
  reason: Reason,
): GatewayAssignment {
  const localities = memoFor(input)?.localitiesOfShares(gateway, shares, WEIGHT_SCALE, 1, sortLocalities);
  if (!localities) return assemble(input, gateway, sharesToLocalities(shares, 0), reason);
  return { service: input.service, localities, reason };
}

/**
 * Assemble an assignment: primary localities at priority 0, everything else as failover. With a
 * memoised input (its latency table) equal results share one localities array (see FailoverMemo).
 */
export function assemble(input: PolicyInput, gateway: string, primary: LocalityAssignment[], reason: Reason): GatewayAssignment {
  const memoised = primary.length > 0 ? memoFor(input)?.localities(gateway, primary, 1, sortLocalities) : undefined;
  if (memoised) return { service: input.service, localities: memoised, reason };
  const primaryNodes = new Set(primary.map((l) => l.node));
  const localities = primary.length > 0 ? [...primary, ...failoverLocalities(input, gateway, primaryNodes, 1)] : [];
  return { service: input.service, localities: sortLocalities(localities), reason };
}

/** Two assignments route identically. */
export function sameAssignment(a: GatewayAssignment | undefined, b: GatewayAssignment | undefined): boolean {
  if (!a || !b) return a === b;
  return sameLocalities(a.localities, b.localities);
}

/** The same (node, priority, weight) entries in the same order. */
export function sameLocalities(a: readonly LocalityAssignment[], b: readonly LocalityAssignment[]): boolean {
  return a === b || (a.length === b.length && sameLocalityRun(a, 0, b, 0, a.length));
}

/** `a[i..i+n)` and `b[j..j+n)` hold the same (node, priority, weight) entries in order (false when either is shorter). */
export function sameLocalityRun(
  a: readonly LocalityAssignment[],
  i: number,
  b: readonly LocalityAssignment[],
  j: number,
  n: number,
): boolean {
  if (a.length < i + n || b.length < j + n) return false;
  for (let k = 0; k < n; k++) {
    const x = a[i + k]!;
    const y = b[j + k]!;
    if (x !== y && (x.node !== y.node || x.priority !== y.priority || x.weight !== y.weight)) return false;
  }
  return true;
}
