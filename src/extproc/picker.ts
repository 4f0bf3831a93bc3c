import type { Endpoint } from '../model/types.js';
import type { GatewayAssignment } from '../policy/types.js';

/**
 * Per-request endpoint choice (pure): power of two choices over the ready endpoints of the lowest
 * assignment priority that still has room, scored by RTT(gateway, endpoint node) plus the endpoint's
 * peak-EWMA latency × (in-flight + 1).
 */

/** What the picker needs to know about live load (LoadTracker implements it). */
export interface LoadView {
  inflight(key: string): number;
  costMs(key: string, nowMs: number): number;
}

export interface PickInput {
  readonly gateway: string;
  readonly assignment: GatewayAssignment | undefined;
  readonly endpoints: readonly Endpoint[];
  readonly load: LoadView;
  /** RTT in ms from the gateway node to an endpoint node. */
  rttMs(from: string, to: string): number;
  readonly nowMs: number;
  readonly rng: () => number;
  /** Longest fallback list returned. Default 3. */
  readonly maxFallbacks?: number;
}

export interface Candidate {
  readonly endpoint: Endpoint;
  /** `ip:port` (IPv6 in brackets), also the LoadTracker key. */
  readonly key: string;
  readonly priority: number;
  readonly score: number;
  /**
   * Expected response time if sent now: RTT + service time (peak-EWMA) + the wait for a slot when
   * the endpoint is full (requests ahead ÷ slots × service time). Compares queueing at a near full
   * endpoint with travelling to a farther free one.
   */
  readonly expectedMs: number;
}

export type PickResult =
  | {
      readonly kind: 'picked';
      readonly pick: Candidate;
      /** Next endpoints to try, best first (never the pick, never saturated ones). */
      readonly fallbacks: readonly Candidate[];
      /** True when every candidate was at capacity and the least bad one was chosen anyway. */
      readonly saturated: boolean;
    }
  | { readonly kind: 'no_candidate'; readonly reason: string };

export function endpointKey(e: Pick<Endpoint, 'address' | 'port'>): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

interface Level {
  readonly priority: number;
  /** Unsaturated candidates with the weight of picking each one (locality weight / endpoints there). */
  readonly open: { c: Candidate; weight: number }[];
  readonly full: Candidate[];
}

function buildLevels(input: PickInput): Level[] {
  const byNode = new Map<string, Endpoint[]>();
  for (const e of input.endpoints) {
    if (!e.ready || e.pending) continue;
    let list = byNode.get(e.node);
    if (!list) byNode.set(e.node, (list = []));
    list.push(e);
  }
  const levels: Level[] = [];
  for (const loc of input.assignment?.localities ?? []) {
    const eps = byNode.get(loc.node);
    if (!eps) continue;
    let level = levels[levels.length - 1];
    if (!level || level.priority !== loc.priority) levels.push((level = { priority: loc.priority, open: [], full: [] }));
    const rtt = input.rttMs(input.gateway, loc.node);
    const share = Math.max(1, loc.weight) / eps.length;
    for (const e of eps) {
      const key = endpointKey(e);
      const inflight = input.load.inflight(key);
      const costMs = input.load.costMs(key, input.nowMs);
      const slots = Math.max(1, e.capacity);
      const c: Candidate = {
        endpoint: e,
        key,
        priority: loc.priority,
        score: rtt + costMs * (inflight + 1),
        expectedMs: rtt + costMs * (1 + Math.max(0, inflight + 1 - slots) / slots),
      };
      if (inflight >= e.capacity) level.full.push(c);
      else level.open.push({ c, weight: share });
    }
  }
  return levels;
}

function sample(open: readonly { c: Candidate; weight: number }[], total: number, rng: () => number, skip: number): number {
  let r = rng() * total;
  for (let i = 0; i < open.length; i++) {
    if (i === skip) continue;
    r -= open[i]!.weight;
    if (r < 0) return i;
  }
  // Floating point leftovers land on the last eligible entry.
  for (let i = open.length - 1; i >= 0; i--) if (i !== skip) return i;
  return 0;
}

const byScore = (a: Candidate, b: Candidate): number =>
  a.priority - b.priority || a.score - b.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export function pick(input: PickInput): PickResult {
  const maxFallbacks = input.maxFallbacks ?? 3;
  if (!input.assignment || input.assignment.localities.length === 0)
    return { kind: 'no_candidate', reason: 'no assignment for this gateway' };
  const levels = buildLevels(input);
  if (levels.length === 0) return { kind: 'no_candidate', reason: 'no ready endpoint in the assignment' };

  const li = levels.findIndex((l) => l.open.length > 0);
  if (li < 0) {
    // Everything is at capacity: queue where it costs least (the score already counts the queue).
    const all = levels.flatMap((l) => l.full).sort((a, b) => a.score - b.score || byScore(a, b));
    return { kind: 'picked', pick: all[0]!, fallbacks: [], saturated: true };
  }
  if (li > 0) {
    // The preferred priorities are full. Queueing briefly at a near endpoint often beats a farther
    // free one (one slot frees every service-time ÷ slots): take whichever is expected to answer first.
    const queued = levels
      .slice(0, li)
      .flatMap((l) => l.full)
      .sort((a, b) => a.expectedMs - b.expectedMs || byScore(a, b))[0];
    const bestOpen = [...levels[li]!.open].sort((a, b) => a.c.expectedMs - b.c.expectedMs || byScore(a.c, b.c))[0]!.c;
    if (queued && queued.expectedMs <= bestOpen.expectedMs) {
      return { kind: 'picked', pick: queued, fallbacks: maxFallbacks > 0 ? [bestOpen] : [], saturated: false };
    }
  }
  const level = levels[li]!;
  const open = level.open;
  let chosen: Candidate;
  let other: Candidate | undefined;
  if (open.length === 1) {
    chosen = open[0]!.c;
  } else {
    const total = open.reduce((s, o) => s + o.weight, 0);
    const i = sample(open, total, input.rng, -1);
    const j = sample(open, total - open[i]!.weight, input.rng, i);
    const a = open[i]!.c;
    const b = open[j]!.c;
    [chosen, other] = b.score < a.score ? [b, a] : [a, b];
  }
  const fallbacks: Candidate[] = [];
  if (maxFallbacks > 0) {
    if (other) fallbacks.push(other);
    const rest = levels
      .slice(li)
      .flatMap((l) => l.open.map((o) => o.c))
      .filter((c) => c !== chosen && c !== other)
      .sort(byScore);
    for (const c of rest) {
      if (fallbacks.length >= maxFallbacks) break;
      fallbacks.push(c);
    }
  }
  return { kind: 'picked', pick: chosen, fallbacks, saturated: false };
}
