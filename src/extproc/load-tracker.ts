/**
 * Live load per endpoint as the ext_proc server sees it: requests in flight and an EWMA of the
 * endpoint's service time. Pure state: the caller passes `nowMs`.
 *
 * Service time, not latency: each sample is the observed latency minus the gateway → endpoint RTT,
 * divided by the queueing factor the picker expected when it sent the request (1 + requests
 * waiting ahead ÷ slots), so a queue at a busy endpoint is not counted twice (once in the sample and
 * again in the picker's wait term).
 *
 * The EWMA weighs each sample by `sampleWeight` (0.2: about the last five requests), fast enough to
 * see a pod that got 5× slower within a handful of requests and, unlike a peak-EWMA, not stuck on
 * the slowest sample of a service with a variable service time. Reading the cost of an endpoint
 * that got no sample for a while moves it towards the caller's prior (the model's service time for
 * that endpoint's node) with time constant `decayMs`: an endpoint that looked slow is retried after a
 * while, and one that went idle never looks cheaper than a fresh one. (A peak-EWMA that decays
 * towards 0 made idle remote endpoints look free: at 5 users the picker left the entry node for
 * them whenever its pod had one request in flight.)
 */

/** Weight of a sample in the extra-hold EWMA (`extraHoldMs`). */
const EXTRA_HOLD_WEIGHT = 0.1;

/** Time constant of the per-endpoint pick rate (`picksPerMs`). */
export const RATE_TAU_MS = 2000;

/** A sample counts for at most this many times the current estimate. */
export const MAX_SAMPLE_RATIO = 3;

/**
 * `atPod` never exceeds this many times the endpoint's recent pick rate × service time (see there).
 * In the simulator (test/extproc-sim.test.ts, the demo's scenario): 4 keeps 5 users local through
 * release stalls and leaves 25 and 50 users within their intervals; 2 let queues grow unseen there.
 */
export const LITTLE_BOUND = 4;

/**
 * The bound holds while the endpoint answered within this long: a release path that stalls is back
 * within a few hundred ms, while a pod that answers nothing for longer may have hung, and then its
 * requests really do hold its slots.
 */
export const ANSWERED_WITHIN_MS = 2000;

export interface LoadTrackerOptions {
  /** Time constant of the drift of an idle endpoint's cost towards the prior. Default 10 s. */
  readonly decayMs?: number;
  /** Weight of a new sample in the EWMA, in (0, 1]. Default 0.2. */
  readonly sampleWeight?: number;
}

/** One acquired in-flight slot. Release it exactly once through `LoadTracker.release`. */
export interface Slot {
  readonly key: string;
  readonly startedMs: number;
  /** RTT gateway → endpoint node at pick time, subtracted from the observed latency. */
  readonly rttMs: number;
  /** 1 + requests waiting ahead ÷ slots at pick time (see the module comment). */
  readonly queueFactor: number;
  /** Share of the request's time expected at the pod rather than on the wire (see `atPod`). */
  readonly atPodShare: number;
  /** The endpoint's service-time estimate when the request was sent (the base of its sample). */
  readonly costMs: number;
  /** Set by the tracker; a released slot is never counted again. */
  released: boolean;
}

interface EndpointLoad {
  /** The unreleased slots: the requests in flight. */
  readonly slots: Set<Slot>;
  atPod: number;
  /** EWMA of how much longer than expected (RTT + service × queue factor) a slot was held; NaN before a sample. */
  extraHoldMs: number;
  /** Picks per ms, exponentially weighted (time constant `RATE_TAU_MS`), as of `rateAtMs`. */
  rate: number;
  rateAtMs: number;
  /** The service time the latest pick expected (NaN before one with an estimate). */
  pickCostMs: number;
  /** When a slot was last released with an answer (NaN before one). */
  answeredAtMs: number;
  costMs: number;
  /** When `costMs` was last updated; NaN before the first sample. */
  stampMs: number;
  samples: number;
}

export interface EndpointLoadSnapshot {
  readonly endpoint: string;
  readonly inflight: number;
  /** Of those, expected at the pod rather than on the wire (see `atPod`). */
  readonly atPod: number;
  /** EWMA service time as last observed (before drifting to a prior), in ms; NaN before a sample. */
  readonly ewmaMs: number;
  readonly samples: number;
  /** How much longer than RTT + time at the pod its slots are held (see `extraHoldMs`), ms. */
  readonly extraHoldMs: number;
}

export class LoadTracker {
  readonly decayMs: number;
  readonly sampleWeight: number;
  private readonly loads = new Map<string, EndpointLoad>();

  constructor(opts: LoadTrackerOptions = {}) {
    this.decayMs = opts.decayMs ?? 10_000;
    this.sampleWeight = opts.sampleWeight ?? 0.2;
    if (!(this.decayMs > 0)) throw new RangeError(`decayMs must be > 0, got ${this.decayMs}`);
    if (!(this.sampleWeight > 0 && this.sampleWeight <= 1))
      throw new RangeError(`sampleWeight must be in (0, 1], got ${this.sampleWeight}`);
  }

  private entry(key: string): EndpointLoad {
    let e = this.loads.get(key);
    if (!e) {
      e = {
        slots: new Set(),
        atPod: 0,
        extraHoldMs: NaN,
        rate: 0,
        rateAtMs: NaN,
        pickCostMs: NaN,
        answeredAtMs: NaN,
        costMs: NaN,
        stampMs: NaN,
        samples: 0,
      };
      this.loads.set(key, e);
    }
    return e;
  }

  inflight(key: string): number {
    return this.loads.get(key)?.slots.size ?? 0;
  }

  /**
   * Requests expected to be at the pod (served or queued) rather than travelling to or from it: each
   * in-flight request counts with the share of its expected time spent at the pod, (service + wait)
   * ÷ (RTT + service + wait) (Little's law per request). A pod 100 ms away with a 20 ms service time
   * and 12 requests in flight has about 2 of them, so comparing raw in-flight counts with its
   * concurrency limit would call it full while it idles (at 45 users the demo's picker found every pod
   * "full" 90 % of the time that way).
   *
   * Bounded by `LITTLE_BOUND` × the recent pick rate × service time: a pod holds on average its
   * arrival rate × the time each request stays (Little's law), so counts far beyond what the picks
   * sent there can fill are slots whose stream ends have not reached us yet — a gateway or this
   * server that stalls for a few hundred ms frees them all late, and meanwhile an idle entry pod
   * looks full (live, one 5-user seed sent 5 % of a node's requests away so). A sustained queue
   * fits the bound: its requests came at that rate. A burst that the rate (time constant
   * `RATE_TAU_MS`) has not caught up with yet counts in full: slots picked within the last
   * `LITTLE_BOUND` service times are never cut. Nor is a pod that has not answered for
   * `ANSWERED_WITHIN_MS` (hung, or never seen answering). Counting each slot only for its expected
   * stay would also drop stalled slots, but it drops the slots of a real queue that the expected
   * stays missed, and the queue then grows unseen (test/extproc-sim.test.ts).
   */
  atPod(key: string, nowMs: number): number {
    const e = this.loads.get(key);
    if (!e) return 0;
    const counted = Math.max(0, e.atPod);
    if (!(e.pickCostMs > 0) || !(nowMs - e.answeredAtMs <= ANSWERED_WITHIN_MS)) return counted;
    const bound = LITTLE_BOUND * this.picksPerMs(key, nowMs) * e.pickCostMs;
    if (counted <= bound) return counted;
    const since = nowMs - LITTLE_BOUND * e.pickCostMs;
    let recent = 0;
    for (const s of e.slots) if (s.startedMs >= since) recent += s.atPodShare;
    return Math.min(counted, Math.max(bound, recent));
  }

  /** Service-time estimate of `key` at `nowMs`: the EWMA drifting towards `priorMs` while idle. */
  costMs(key: string, nowMs: number, priorMs: number): number {
    const e = this.loads.get(key);
    if (!e || e.samples === 0) return priorMs;
    const dt = nowMs - e.stampMs;
    if (dt <= 0) return e.costMs;
    return priorMs + (e.costMs - priorMs) * Math.exp(-dt / this.decayMs);
  }

  /**
   * How much longer than expected a request to `key` holds its slot (≥ 0): the time outside the
   * pod and the wire that the picker's counts still see — the gateway's own work and a stream end
   * that arrives late (on busy cores tens of ms). Requests at the pod are the in-flight ones
   * weighted by their expected time there over their whole hold, this included.
   */
  extraHoldMs(key: string): number {
    const x = this.loads.get(key)?.extraHoldMs;
    return x !== undefined && x > 0 ? x : 0;
  }

  /**
   * Requests sent to `key` per ms, recently: each pick adds 1 ÷ τ and the sum decays with time
   * constant τ = `RATE_TAU_MS` (an exponentially weighted event rate, exact for a steady rate).
   */
  picksPerMs(key: string, nowMs: number): number {
    const e = this.loads.get(key);
    if (!e || !(e.rate > 0)) return 0;
    const dt = nowMs - e.rateAtMs;
    return dt > 0 ? e.rate * Math.exp(-dt / RATE_TAU_MS) : e.rate;
  }

  /** Count one request in flight on `key`. */
  acquire(key: string, nowMs: number, rttMs = 0, queueFactor = 1, atPodShare = 1, costMs = NaN): Slot {
    const e = this.entry(key);
    e.rate = this.picksPerMs(key, nowMs) + 1 / RATE_TAU_MS;
    e.rateAtMs = nowMs;
    if (Number.isFinite(costMs)) e.pickCostMs = costMs;
    e.atPod += atPodShare;
    const slot: Slot = { key, startedMs: nowMs, rttMs, queueFactor, atPodShare, costMs, released: false };
    e.slots.add(slot);
    return slot;
  }

  /**
   * Release a slot; with `sample`, also record its latency (minus RTT, ÷ queue factor) as a sample.
   * Idempotent: returns false (and changes nothing) when the slot was already released.
   */
  release(slot: Slot, nowMs: number, sample = false): boolean {
    if (slot.released) return false;
    slot.released = true;
    const e = this.loads.get(slot.key);
    if (!e) return true;
    e.slots.delete(slot);
    // Floating point leftovers vanish when the endpoint is idle.
    e.atPod = e.slots.size === 0 ? 0 : e.atPod - slot.atPodShare;
    if (sample) {
      e.answeredAtMs = nowMs;
      const extraMs = nowMs - slot.startedMs - slot.rttMs - slot.costMs * slot.queueFactor;
      if (Number.isFinite(extraMs))
        e.extraHoldMs = Number.isFinite(e.extraHoldMs) ? e.extraHoldMs + EXTRA_HOLD_WEIGHT * (extraMs - e.extraHoldMs) : extraMs;
      const serviceMs = (nowMs - slot.startedMs - slot.rttMs) / slot.queueFactor;
      if (Number.isFinite(serviceMs)) this.observe(slot.key, Math.max(0, serviceMs), nowMs, slot.costMs);
    }
    return true;
  }

  /**
   * Record one service-time sample. The first one is blended into `priorMs` (the estimate the
   * request was sent with) rather than replacing it, and no sample counts for more than
   * `MAX_SAMPLE_RATIO` × the current estimate: one stall (a new connection, a GC pause, a busy
   * machine) must not make a pod look slow for the τ it takes an avoided pod to be retried — in the
   * demo a first sample of a few hundred ms kept the entry node's pod idle for a whole 5-user level.
   * A pod that really got 5× slower still passes 2× its old estimate within 4 samples.
   */
  observe(key: string, serviceMs: number, nowMs: number, priorMs = NaN): void {
    const e = this.entry(key);
    const base = e.samples > 0 ? e.costMs : priorMs;
    if (!Number.isFinite(base)) e.costMs = serviceMs;
    else e.costMs = base + this.sampleWeight * (Math.min(serviceMs, MAX_SAMPLE_RATIO * base) - base);
    e.stampMs = nowMs;
    e.samples++;
  }

  /** Drop state of endpoints that are idle and not in `keep` (endpoints that left the model). */
  prune(keep: ReadonlySet<string>): void {
    for (const [k, e] of this.loads) if (e.slots.size === 0 && !keep.has(k)) this.loads.delete(k);
  }

  /** Every tracked endpoint, with the requests expected at its pod at `nowMs`. */
  snapshot(nowMs: number): EndpointLoadSnapshot[] {
    return [...this.loads.keys()].sort().map((k) => {
      const e = this.loads.get(k)!;
      return {
        endpoint: k,
        inflight: e.slots.size,
        atPod: Math.round(this.atPod(k, nowMs) * 100) / 100,
        ewmaMs: e.costMs,
        samples: e.samples,
        extraHoldMs: Math.round(this.extraHoldMs(k) * 100) / 100,
      };
    });
  }

  totalInflight(): number {
    let n = 0;
    for (const e of this.loads.values()) n += e.slots.size;
    return n;
  }
}
