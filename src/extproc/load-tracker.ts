/**
 * Live load per endpoint as the ext_proc server sees it: requests in flight and a peak-EWMA of the
 * endpoint's own latency (Finagle / tower `PeakEwma`). Pure state: the caller passes `nowMs`.
 *
 * Peak-EWMA: a sample above the current cost replaces it at once (react to slowness immediately);
 * a lower sample is blended in with weight 1 − w, w = e^(−Δt/τ), so the cost recovers over about τ.
 * Reading the cost also decays it towards 0 with the time since the last update (as Finagle's
 * `observe(0)` on read), so an endpoint that stopped getting traffic after a slow spell is retried.
 */

export interface LoadTrackerOptions {
  /** Decay time constant τ of the EWMA. Default 10 s (Linkerd / tower use 10 s). */
  readonly decayMs?: number;
  /** Cost of an endpoint before its first sample (e.g. the model's service time). Default 10 ms. */
  readonly defaultCostMs?: number;
}

/** One acquired in-flight slot. Release it exactly once through `LoadTracker.release`. */
export interface Slot {
  readonly key: string;
  readonly startedMs: number;
  /** Set by the tracker; a released slot is never counted again. */
  released: boolean;
}

interface EndpointLoad {
  inflight: number;
  costMs: number;
  /** When `costMs` was last updated; NaN before the first sample. */
  stampMs: number;
  samples: number;
}

export interface EndpointLoadSnapshot {
  readonly endpoint: string;
  readonly inflight: number;
  /** Peak-EWMA cost now (decayed), in ms. */
  readonly ewmaMs: number;
  readonly samples: number;
}

export class LoadTracker {
  readonly decayMs: number;
  readonly defaultCostMs: number;
  private readonly loads = new Map<string, EndpointLoad>();

  constructor(opts: LoadTrackerOptions = {}) {
    this.decayMs = opts.decayMs ?? 10_000;
    this.defaultCostMs = opts.defaultCostMs ?? 10;
    if (!(this.decayMs > 0)) throw new RangeError(`decayMs must be > 0, got ${this.decayMs}`);
    if (!(this.defaultCostMs >= 0)) throw new RangeError(`defaultCostMs must be >= 0, got ${this.defaultCostMs}`);
  }

  private entry(key: string): EndpointLoad {
    let e = this.loads.get(key);
    if (!e) {
      e = { inflight: 0, costMs: this.defaultCostMs, stampMs: NaN, samples: 0 };
      this.loads.set(key, e);
    }
    return e;
  }

  inflight(key: string): number {
    return this.loads.get(key)?.inflight ?? 0;
  }

  /** Peak-EWMA cost of `key` at `nowMs` (decayed since the last update), in ms. */
  costMs(key: string, nowMs: number): number {
    const e = this.loads.get(key);
    if (!e) return this.defaultCostMs;
    if (Number.isNaN(e.stampMs)) return e.costMs;
    const dt = Math.max(0, nowMs - e.stampMs);
    return e.costMs * Math.exp(-dt / this.decayMs);
  }

  /** Count one request in flight on `key`. */
  acquire(key: string, nowMs: number): Slot {
    this.entry(key).inflight++;
    return { key, startedMs: nowMs, released: false };
  }

  /**
   * Release a slot; with `latencyMs`, also record it as a sample. Idempotent: returns false (and
   * changes nothing) when the slot was already released.
   */
  release(slot: Slot, nowMs: number, latencyMs?: number): boolean {
    if (slot.released) return false;
    slot.released = true;
    const e = this.loads.get(slot.key);
    if (!e) return true;
    e.inflight = Math.max(0, e.inflight - 1);
    if (latencyMs !== undefined && Number.isFinite(latencyMs) && latencyMs >= 0) this.observe(slot.key, latencyMs, nowMs);
    return true;
  }

  /** Record one latency sample (peak-EWMA update). */
  observe(key: string, latencyMs: number, nowMs: number): void {
    const e = this.entry(key);
    if (Number.isNaN(e.stampMs)) {
      e.costMs = latencyMs;
    } else {
      const dt = Math.max(0, nowMs - e.stampMs);
      const w = Math.exp(-dt / this.decayMs);
      e.costMs = latencyMs > e.costMs ? latencyMs : e.costMs * w + latencyMs * (1 - w);
    }
    e.stampMs = nowMs;
    e.samples++;
  }

  /** Drop state of endpoints that are idle and not in `keep` (endpoints that left the model). */
  prune(keep: ReadonlySet<string>): void {
    for (const [k, e] of this.loads) if (e.inflight === 0 && !keep.has(k)) this.loads.delete(k);
  }

  snapshot(nowMs: number): EndpointLoadSnapshot[] {
    return [...this.loads.keys()].sort().map((k) => {
      const e = this.loads.get(k)!;
      return { endpoint: k, inflight: e.inflight, ewmaMs: this.costMs(k, nowMs), samples: e.samples };
    });
  }

  totalInflight(): number {
    let n = 0;
    for (const e of this.loads.values()) n += e.inflight;
    return n;
  }
}
