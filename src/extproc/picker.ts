import type { Endpoint } from '../model/types.js';
import type { GatewayAssignment } from '../policy/types.js';

/**
 * Per-request endpoint choice (pure): among the ready endpoints of the gateway's assignment (never
 * outside it), the one expected to answer first. Expected time = RTT(gateway, endpoint node) +
 * service time × queue factor, where the queue factor is 1 with a free slot and grows by 1 ÷ slots
 * for every request waiting ahead (requests at the pod beyond its concurrency limit).
 *
 * Why not power of two choices on RTT + cost × (in-flight + 1) any more: that score charges a pod
 * for a request in flight even when it has a free slot, so at 5 users (one request in flight at the
 * entry node's 2-slot pod 30 % of the time) P2C's second draw — always another node when the entry
 * node has one pod — won against the local pod whenever cost × 2 exceeded the trip. A free slot
 * means no wait: the only reason to leave a node with room is that its pod is slower than the trip
 * plus the other pod's service time (a slow pod), and then the assignment's priorities must not
 * keep requests on it: they only break ties here. One ext_proc server sees every opted-in
 * gateway's requests, so the in-flight counts behind the queue factor are cluster-wide.
 *
 * A pod without a free slot is compared on its cost to everyone, not only to this request: the
 * delay its wait passes on to the requests sent there after it (see `passedOn`) is added to its
 * expected time. Comparing the request's own expected time alone is selfish routing: in the
 * 25-user demo the entry pods queued until their wait matched the trip to the next node (the edge-2
 * pod held ~8 waiting requests, 81 ms of queue, against the cloud's 100 ms RTT) and the mean was
 * 1.5× the EDS weights'. The charge grows with the pod's recent pick rate, so at low load (few
 * requests behind) a brief queue at the entry node still beats a trip, and the node stays local.
 *
 * Ties (choice times within `TIE_MS` or `TIE_SHARE` of the fastest) go to the nearest endpoint,
 * then to the lowest priority, then to a draw weighted by the locality weights (spreads identical
 * idle pods). The share is wide on purpose: the wait term assumes exponential service times (each
 * request ahead costs service ÷ slots), which overstates the wait behind a pod's current requests
 * when service times vary less; and the estimates are noisy while the trip is not. In the 5-user
 * demo a 2 % band sent 2-4 % of requests 20-50 ms away to save a few ms of estimated queueing.
 */

/** What the picker needs to know about live load (LoadTracker, or pod signals over it). */
export interface LoadView {
  /** Requests in flight to the endpoint (on the wire or at the pod). */
  inflight(key: string): number;
  /** Of those, expected at the pod (served or queued) at `nowMs`: what its concurrency limit applies to. */
  atPod(key: string, nowMs: number): number;
  /** Service-time estimate; `priorMs` when the view knows nothing better. */
  costMs(key: string, nowMs: number, priorMs: number): number;
  /** Requests recently sent to the endpoint, per ms (what the wait of a queued request holds up). */
  picksPerMs(key: string, nowMs: number): number;
  /** How much longer than RTT + time at the pod a request's slot is held (≥ 0). */
  extraHoldMs(key: string): number;
}

export interface PickInput {
  readonly gateway: string;
  readonly assignment: GatewayAssignment | undefined;
  readonly endpoints: readonly Endpoint[];
  readonly load: LoadView;
  /** RTT in ms from the gateway node to an endpoint node. */
  rttMs(from: string, to: string): number;
  /** Service time expected at a node before the load view has samples (the model's estimate). */
  priorMs(node: string): number;
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
  readonly rttMs: number;
  readonly inflight: number;
  /** Requests expected at the pod now (LoadView.atPod). */
  readonly atPod: number;
  readonly costMs: number;
  /** RTT + service time + wait for a slot (see the module comment). */
  readonly expectedMs: number;
  /**
   * What the choice compares: `expectedMs`, plus at a full pod the delay its wait passes on: every
   * request sent there during that wait (the endpoint's pick rate × the wait) queues behind one
   * more request, service time ÷ slots each. See the module comment.
   */
  readonly choiceMs: number;
  /** 1 + requests waiting ahead ÷ slots: the wait factor of `expectedMs`, kept with the slot. */
  readonly queueFactor: number;
  /** Share of this request's slot time expected at the pod: (expected − RTT) ÷ (expected + the endpoint's extra hold). */
  readonly atPodShare: number;
  /** No free slot for one more request (`atPod` + 1 > capacity): sending there means queueing. */
  readonly full: boolean;
  /** Locality weight ÷ endpoints there (tie-break draw). */
  readonly weight: number;
}

/** Which rule chose: the fastest had room, the fastest was a queue although some pod had room, or every pod was full. */
export type PickRule = 'fastest' | 'queued' | 'saturated';

export type PickResult =
  | {
      readonly kind: 'picked';
      readonly pick: Candidate;
      /** Next endpoints to try, best first (never the pick, never saturated ones). */
      readonly fallbacks: readonly Candidate[];
      /** True when every candidate was at capacity and the least bad one was chosen anyway. */
      readonly saturated: boolean;
      readonly rule: PickRule;
      /** The locality premium the pick paid on top of its choice time (see `LOCALITY_PREMIUM`). */
      readonly premiumMs: number;
      /**
       * Set when the pick is on another node although an endpoint on the gateway's own node had a
       * free slot: that endpoint (the best of them), to explain the choice.
       */
      readonly leftLocalWithRoom?: Candidate;
    }
  | { readonly kind: 'no_candidate'; readonly reason: string };

export function endpointKey(e: Pick<Endpoint, 'address' | 'port'>): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export const TIE_MS = 0.5;
/** A request 0.2 ms away counts 0.99 at the pod: such rounding must not hide a full pod. */
const FULL_SLACK = 0.05;
export const TIE_SHARE = 0.25;

/**
 * The busiest a pod is taken to be, however high its pick rate: the busy-period factor 1 ÷ (1 − ρ)
 * stays ≤ 2. In the simulator (src/sim/extproc-chooser.ts, the demo's scenario) a cap of 0.9 bought
 * a lower mean at 25-50 users with a p95 and p99 above the EDS weights' at 25 (far trips for
 * everyone); 0.5 stays at or below them at every level.
 */
const MAX_UTILISATION = 0.5;

/**
 * The delay a request queued for `waitMs` passes on: every request sent to the pod while it waits
 * (rate × wait) and, while the pod stays busy, those that come after them (÷ (1 − ρ), a busy
 * period's length) queue behind one more request: `perRequestMs` (service time ÷ slots) each.
 */
function passedOn(waitMs: number, picksPerMs: number, perRequestMs: number): number {
  const utilisation = Math.min(MAX_UTILISATION, picksPerMs * perRequestMs);
  return (waitMs * picksPerMs * perRequestMs) / (1 - utilisation);
}

/** 1 + requests waiting ahead ÷ slots for one more request at a pod with `atPod` there. */
function queueFactorAt(atPod: number, capacity: number): number {
  const slots = Math.max(1, capacity);
  return 1 + Math.max(0, atPod + 1 - slots) / slots;
}

/** What a slot for a request sent to `e` without our pick is expected to hold (see `edsDraw`). */
export interface UnpickedSlot {
  readonly key: string;
  /** Requests expected at the pod before this one (LoadView.atPod). */
  readonly atPod: number;
  readonly rttMs: number;
  readonly costMs: number;
  readonly queueFactor: number;
  readonly atPodShare: number;
  /** Expected time until the request is done: RTT + time at the pod. */
  readonly holdMs: number;
}

/** A request routed to `e` by the EDS weights, as the picker would have expected it there. */
export function unpickedSlot(load: LoadView, e: Endpoint, nowMs: number, rttMs: number, priorMs: number): UnpickedSlot {
  const key = endpointKey(e);
  const atPod = load.atPod(key, nowMs);
  const costMs = load.costMs(key, nowMs, priorMs);
  const queueFactor = queueFactorAt(atPod, e.capacity);
  const atPodMs = costMs * queueFactor;
  const holdMs = rttMs + atPodMs;
  return { key, atPod, rttMs, costMs, queueFactor, atPodShare: holdMs > 0 ? atPodMs / holdMs : 1, holdMs };
}

function candidate(input: PickInput, e: Endpoint, priority: number, rttMs: number, priorMs: number, weight: number): Candidate {
  const { key, atPod, costMs, queueFactor, holdMs: expectedMs } = unpickedSlot(input.load, e, input.nowMs, rttMs, priorMs);
  const waitMs = costMs * (queueFactor - 1);
  const perRequestMs = costMs / Math.max(1, e.capacity);
  const passedOnMs = waitMs > 0 ? passedOn(waitMs, input.load.picksPerMs(key, input.nowMs), perRequestMs) : 0;
  // The extra hold discounts a request's count at the pod by at most half: it is learnt from answers,
  // and a queue the counts missed also looks like extra hold (discounting it would hide it further).
  const heldMs = expectedMs + Math.min(input.load.extraHoldMs(key), expectedMs);
  const atPodShare = heldMs > 0 ? (expectedMs - rttMs) / heldMs : 1;
  return {
    endpoint: e,
    key,
    priority,
    rttMs,
    inflight: input.load.inflight(key),
    atPod,
    costMs,
    expectedMs,
    choiceMs: expectedMs + passedOnMs,
    queueFactor,
    atPodShare,
    full: atPod + 1 > e.capacity + FULL_SLACK,
    weight,
  };
}

// Grouping the ready endpoints by node once per endpoint list (the model replaces the list when it
// changes) keeps that work and its garbage off the per-request path.
const readyByNodeCache = new WeakMap<readonly Endpoint[], Map<string, Endpoint[]>>();
function readyByNode(endpoints: readonly Endpoint[]): Map<string, Endpoint[]> {
  let byNode = readyByNodeCache.get(endpoints);
  if (!byNode) {
    byNode = new Map();
    for (const e of endpoints) {
      if (!e.ready || e.pending) continue;
      let list = byNode.get(e.node);
      if (!list) byNode.set(e.node, (list = []));
      list.push(e);
    }
    readyByNodeCache.set(endpoints, byNode);
  }
  return byNode;
}

function candidates(input: PickInput): Candidate[] {
  const byNode = readyByNode(input.endpoints);
  const out: Candidate[] = [];
  for (const loc of input.assignment?.localities ?? []) {
    const eps = byNode.get(loc.node);
    if (!eps) continue;
    const rtt = input.rttMs(input.gateway, loc.node);
    const prior = input.priorMs(loc.node);
    const weight = Math.max(1, loc.weight) / eps.length;
    for (const e of eps) out.push(candidate(input, e, loc.priority, rtt, prior, weight));
  }
  return out;
}

const tolerance = (ms: number): number => Math.max(TIE_MS, TIE_SHARE * ms);

/**
 * Leaving the nearest pods for one `ΔRTT` farther costs `LOCALITY_PREMIUM` × ΔRTT × (1 − ρ) on top
 * of the choice time, ρ the nearest pods' utilisation by recent picks. At low load those pods have
 * room on average and a queue there drains within a few service times, while a trip away spends
 * the links between nodes that Proxima exists to spare: in the 5-user demo the entry pod (2 slots,
 * 31 % busy) held 2 waiting requests in 1-2 % of arrivals, and without the premium those left for
 * a pod 20 ms away to save a few ms of expected wait (live, seeds 1-5: 98.4-99.9 % local; with the
 * premium 99.90-100.00 %, README). The
 * premium fades as ρ → 1, where the plan itself sends requests away and the choice is the queue
 * against the trip. In the simulator (test/extproc-sim.test.ts, seeds 1-5, 5 users) it took the
 * local share from 99.6 to 99.96 %, with release stalls from 99.2 to 99.8 %, and left 25 and 50
 * users within their former intervals. Not more: an idle entry pod 5× slower (100 ms) than a free
 * one 20 ms away is left by 100.2 − 1.25 × (40 + 19.8) = 25.5 ms of margin at 1 × ΔRTT, by 0.7 ms
 * at 2 × ΔRTT (src/extproc/picker.test.ts; the slow-pod tests still pass at 2, with no margin for
 * a noisier estimate). A premium of ΔRTT not scaled by 1 − ρ raised the 25-user mean from 49.9 to
 * 67.2 ms.
 */
export const LOCALITY_PREMIUM = 1;

/** The premium per ms of RTT beyond the nearest candidates' (see `LOCALITY_PREMIUM`). */
interface LocalityPremium {
  readonly perMs: number;
  readonly nearestRttMs: number;
}

/** The pool's premium; ρ of a pod = its recent picks per ms × service time ÷ slots, read for the nearest pods only. */
function localityPremium(pool: readonly Candidate[], load: LoadView, nowMs: number): LocalityPremium {
  let nearestRttMs = Infinity;
  for (const c of pool) if (c.rttMs < nearestRttMs) nearestRttMs = c.rttMs;
  let busy = 0;
  let nearest = 0;
  for (const c of pool)
    if (c.rttMs === nearestRttMs) {
      busy += (load.picksPerMs(c.key, nowMs) * c.costMs) / Math.max(1, c.endpoint.capacity);
      nearest++;
    }
  return { perMs: LOCALITY_PREMIUM * Math.max(0, 1 - busy / nearest), nearestRttMs };
}

const premiumMs = (p: LocalityPremium, c: Candidate): number => p.perMs * (c.rttMs - p.nearestRttMs);

/**
 * Lowest choice time; near-ties to the nearest, then the lowest priority, then a weighted draw.
 * When every pod is full (`saturated`) a near-tie is only `TIE_MS`: the wide band is there to keep
 * a node local while some pod has room, and with none it lets the nearest pod's queue grow a
 * quarter beyond the best one's — the tail. (In the simulator's 50-user demo scenario, seeds 1-5:
 * mean 85.6 ± 1.9 → 82.0 ± 1.3 ms, p95 and p99 unchanged, test/extproc-sim.test.ts. Choosing by
 * the request's own expected completion there instead, without the delay passed on, raised the
 * mean to 118.3 ± 4.3 ms, above the EDS weights' 90.3 ± 5.4.)
 */
function fastest(pool: readonly Candidate[], rng: () => number, premium: LocalityPremium | undefined): Candidate {
  const v = premium ? (c: Candidate): number => c.choiceMs + premiumMs(premium, c) : (c: Candidate): number => c.choiceMs;
  let best = pool[0]!;
  for (const c of pool) if (v(c) < v(best)) best = c;
  const limit = v(best) + (premium ? tolerance(v(best)) : TIE_MS);
  const near = (c: Candidate): boolean => v(c) <= limit;
  let nearest = Infinity;
  for (const c of pool) if (near(c) && c.rttMs < nearest) nearest = c.rttMs;
  let priority = Infinity;
  for (const c of pool) if (near(c) && c.rttMs === nearest && c.priority < priority) priority = c.priority;
  const tied = (c: Candidate): boolean => near(c) && c.rttMs === nearest && c.priority === priority;
  let total = 0;
  for (const c of pool) if (tied(c)) total += c.weight;
  let r = rng() * total;
  let last = best;
  for (const c of pool) {
    if (!tied(c)) continue;
    last = c;
    r -= c.weight;
    if (r < 0) return c;
  }
  return last;
}

/** A node of `priority` drawn as the EDS weights would: by locality weight. */
function drawNode(all: readonly Candidate[], priority: number, total: number, rng: () => number): string {
  let r = rng() * total;
  let drawn: Candidate | undefined;
  for (const c of all) {
    if (c.priority !== priority) continue;
    drawn = c;
    r -= c.weight;
    if (r < 0) break;
  }
  return drawn!.endpoint.node;
}

/**
 * Every pod full: two nodes drawn as the EDS weights would draw one (by locality weight, among the
 * lowest priority with candidates), then the pod of those two nodes expected to answer first.
 * With every pod full the choice rests on the counts alone, and live they lag: a slot is held until
 * the gateway's stream end reaches the server, which on busy cores comes long after the pod
 * answered (in four one-seed 50-user demo runs, `/debug/extproc` put that extra hold at 0-598 ms
 * per endpoint for a 20 ms service; 92-98 % of picks were saturated). A comparison over every node
 * then follows the lag; drawing from the weights (the model's split for the measured demand) bounds
 * how far it can move the split: a node of weight w gets between w² and 1 − (1 − w)² of the
 * saturated picks.
 * In the simulator (no lag) two draws kept the gain of the full comparison: 50 users, seeds 1-5,
 * p99 171.0 ± 1.7 ms against the EDS weights' 231.0 ± 57.4 (one draw, the EDS split itself:
 * 224.4 ± 92.8), test/extproc-sim.test.ts.
 */
function twoDraws(all: readonly Candidate[], rng: () => number): Candidate {
  let priority = Infinity;
  for (const c of all) if (c.priority < priority) priority = c.priority;
  let total = 0;
  for (const c of all) if (c.priority === priority) total += c.weight;
  const a = drawNode(all, priority, total, rng);
  const b = drawNode(all, priority, total, rng);
  return fastest(
    all.filter((c) => c.priority === priority && (c.endpoint.node === a || c.endpoint.node === b)),
    rng,
    undefined,
  );
}

const byExpected = (a: Candidate, b: Candidate): number =>
  a.expectedMs - b.expectedMs || a.rttMs - b.rttMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export function pick(input: PickInput): PickResult {
  const maxFallbacks = input.maxFallbacks ?? 3;
  if (!input.assignment || input.assignment.localities.length === 0)
    return { kind: 'no_candidate', reason: 'no assignment for this gateway' };
  const all = candidates(input);
  if (all.length === 0) return { kind: 'no_candidate', reason: 'no ready endpoint in the assignment' };
  const saturated = all.every((c) => c.full);
  const premium = saturated ? undefined : localityPremium(all, input.load, input.nowMs);
  const chosen = premium ? fastest(all, input.rng, premium) : twoDraws(all, input.rng);
  const rule: PickRule = saturated ? 'saturated' : chosen.full ? 'queued' : 'fastest';

  const fallbacks: Candidate[] = [];
  if (maxFallbacks > 0 && !saturated) {
    const rest = all.filter((c) => c !== chosen && !c.full).sort(byExpected);
    for (const c of rest) {
      if (fallbacks.length >= maxFallbacks) break;
      fallbacks.push(c);
    }
  }
  let leftLocalWithRoom: Candidate | undefined;
  if (chosen.endpoint.node !== input.gateway) {
    for (const c of all)
      if (!c.full && c.endpoint.node === input.gateway && (!leftLocalWithRoom || c.expectedMs < leftLocalWithRoom.expectedMs))
        leftLocalWithRoom = c;
  }
  return {
    kind: 'picked',
    pick: chosen,
    fallbacks,
    saturated,
    rule,
    premiumMs: premium ? premiumMs(premium, chosen) : 0,
    ...(leftLocalWithRoom ? { leftLocalWithRoom } : {}),
  };
}

/**
 * The endpoint Envoy's EDS weights would send a request to, drawn as its load balancer does: the
 * lowest priority with a ready endpoint, a locality by weight, an endpoint of it uniformly. Where a
 * request went that the gateway routed without our pick (its decision came too late), as far as
 * we can know: it is counted there so the picker sees that load too.
 */
export function edsDraw(
  assignment: GatewayAssignment | undefined,
  endpoints: readonly Endpoint[],
  rng: () => number,
): Endpoint | undefined {
  const byNode = readyByNode(endpoints);
  let priority = Infinity;
  let total = 0;
  for (const loc of assignment?.localities ?? []) {
    if (!byNode.has(loc.node) || loc.priority > priority) continue;
    if (loc.priority < priority) {
      priority = loc.priority;
      total = 0;
    }
    total += Math.max(0, loc.weight);
  }
  if (priority === Infinity) return undefined;
  let r = rng() * total;
  let drawn: Endpoint[] | undefined;
  for (const loc of assignment!.localities) {
    const eps = byNode.get(loc.node);
    if (!eps || loc.priority !== priority) continue;
    drawn = eps;
    r -= Math.max(0, loc.weight);
    if (r < 0) break;
  }
  return drawn![Math.min(drawn!.length - 1, Math.floor(rng() * drawn!.length))];
}
