/**
 * Pure estimators for probe samples: EWMA, a sliding-window quantile, loss over a window, and the
 * per-peer state that combines them with consecutive-failure reachability. No clock, no I/O.
 */

/** Exponentially weighted moving average with a fixed weight per sample. */
export class Ewma {
  private current: number | undefined;

  /** `alpha` is the weight of a new sample, 0 < alpha <= 1. */
  constructor(readonly alpha: number) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`EWMA alpha must be in (0, 1], got ${alpha}`);
  }

  /** The first sample initialises the average (no bias towards 0). */
  observe(sample: number): number {
    this.current = this.current === undefined ? sample : this.current + this.alpha * (sample - this.current);
    return this.current;
  }

  get value(): number | undefined {
    return this.current;
  }

  /** Restart the average at `value` (a level shift was detected). */
  reset(value: number): void {
    this.current = value;
  }
}

export { TimeEwma } from '../util/ewma.js';

/** The last `size` values, with quantiles computed on demand (windows are small: tens of samples). */
export class SlidingWindow {
  private readonly values: number[] = [];
  private next = 0;

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size > 0)) throw new RangeError(`window size must be a positive integer, got ${size}`);
  }

  push(v: number): void {
    if (this.values.length < this.size) this.values.push(v);
    else {
      this.values[this.next] = v;
      this.next = (this.next + 1) % this.size;
    }
  }

  get count(): number {
    return this.values.length;
  }

  /** Nearest-rank quantile, q in [0, 1]; undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.values.length === 0) return undefined;
    const sorted = [...this.values].sort((a, b) => a - b);
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
    return sorted[rank - 1];
  }

  mean(): number | undefined {
    if (this.values.length === 0) return undefined;
    return this.values.reduce((a, b) => a + b, 0) / this.values.length;
  }
}

/** Share of failures among the last `size` probe outcomes. */
export class LossWindow {
  private readonly outcomes: SlidingWindow;

  constructor(size: number) {
    this.outcomes = new SlidingWindow(size);
  }

  record(ok: boolean): void {
    this.outcomes.push(ok ? 0 : 1);
  }

  /** 0 when nothing was recorded yet. */
  get ratio(): number {
    return this.outcomes.mean() ?? 0;
  }
}

export interface PeerEstimatorOptions {
  /** Weight of a new RTT sample in the EWMA. */
  readonly alpha: number;
  /** Samples kept for the percentile and the loss ratio. */
  readonly windowSize: number;
  /** Consecutive failed probes after which the peer is unreachable. */
  readonly failuresToUnreachable: number;
  /**
   * Two samples in a row this far from the average (as a fraction of it, and at least `shiftMs`), on
   * the same side, are a level shift (a link got slower or faster), not noise: the average restarts
   * at their mean instead of creeping there over many intervals. The first such sample is held back
   * until the next one decides, so a shift is never reported half-way and a lone spike is only
   * averaged in.
   */
  readonly shiftRatio: number;
  readonly shiftMs: number;
}

export const DEFAULT_PEER_ESTIMATOR_OPTIONS: PeerEstimatorOptions = Object.freeze({
  alpha: 0.3,
  windowSize: 20,
  failuresToUnreachable: 2,
  shiftRatio: 0.3,
  shiftMs: 5,
});

export interface PeerEstimate {
  readonly peer: string;
  /** EWMA of successful RTT samples; undefined before the first success. */
  readonly rttMs: number | undefined;
  readonly p90Ms: number | undefined;
  readonly tcpConnectMs: number | undefined;
  readonly lossRatio: number;
  readonly reachable: boolean;
  readonly samples: number;
  readonly consecutiveFailures: number;
  /** Time of the last probe (success or failure); undefined when never probed. */
  readonly measuredAtMs: number | undefined;
}

/**
 * Everything the agent knows about one peer. A peer starts reachable (nothing says otherwise), turns
 * unreachable after `failuresToUnreachable` consecutive failures and reachable again on one success.
 */
export class PeerEstimator {
  private readonly rtt: Ewma;
  private readonly tcp: Ewma;
  private readonly recent: SlidingWindow;
  private readonly loss: LossWindow;
  private successes = 0;
  private failuresInARow = 0;
  /**
   * Side (−1/+1) and value of a sample that looked like a level shift and is held back until the
   * next sample says whether it was one (same side: restart there) or noise (fold both in).
   */
  private shiftSide = 0;
  private shiftSample: number | undefined;
  private lastMs: number | undefined;

  constructor(
    readonly peer: string,
    private readonly opts: PeerEstimatorOptions = DEFAULT_PEER_ESTIMATOR_OPTIONS,
  ) {
    this.rtt = new Ewma(opts.alpha);
    this.tcp = new Ewma(opts.alpha);
    this.recent = new SlidingWindow(opts.windowSize);
    this.loss = new LossWindow(opts.windowSize);
  }

  success(rttMs: number, nowMs: number): void {
    const avg = this.rtt.value;
    const side =
      avg === undefined ? 0 : Math.abs(rttMs - avg) > Math.max(this.opts.shiftMs, this.opts.shiftRatio * avg) ? Math.sign(rttMs - avg) : 0;
    const held = this.shiftSample;
    if (held !== undefined && side !== 0 && side === this.shiftSide) {
      this.rtt.reset((held + rttMs) / 2);
      this.shiftSide = 0;
      this.shiftSample = undefined;
    } else if (held === undefined && side !== 0) {
      this.shiftSide = side;
      this.shiftSample = rttMs;
    } else {
      if (held !== undefined) this.rtt.observe(held);
      this.rtt.observe(rttMs);
      this.shiftSide = 0;
      this.shiftSample = undefined;
    }
    this.recent.push(rttMs);
    this.loss.record(true);
    this.successes++;
    this.failuresInARow = 0;
    this.lastMs = nowMs;
  }

  /** The last sample looked like a level shift: one more sample, soon, decides (see ProbeAgent). */
  get shiftPending(): boolean {
    return this.shiftSample !== undefined;
  }

  failure(nowMs: number): void {
    this.loss.record(false);
    this.failuresInARow++;
    this.lastMs = nowMs;
  }

  /** A TCP connect timing: a second, kernel-only estimate that does not affect reachability. */
  tcpConnect(ms: number): void {
    this.tcp.observe(ms);
  }

  get reachable(): boolean {
    return this.failuresInARow < this.opts.failuresToUnreachable;
  }

  /** Failing but not yet marked unreachable: worth probing every interval until decided. */
  get suspect(): boolean {
    return this.failuresInARow > 0 && this.reachable;
  }

  get rttMs(): number | undefined {
    return this.rtt.value;
  }

  estimate(): PeerEstimate {
    return {
      peer: this.peer,
      rttMs: this.rtt.value,
      p90Ms: this.recent.quantile(0.9),
      tcpConnectMs: this.tcp.value,
      lossRatio: this.loss.ratio,
      reachable: this.reachable,
      samples: this.successes,
      consecutiveFailures: this.failuresInARow,
      measuredAtMs: this.lastMs,
    };
  }
}
