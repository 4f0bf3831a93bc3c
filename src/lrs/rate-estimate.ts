/**
 * A request rate from the counts of successive reports (pure; time passed in).
 *
 * Demand that holds still is best estimated by the mean since it last changed: one 1 s report of
 * a 50 requests/s Poisson stream is off by ±14 %, and a policy whose optimum is steep in demand (a
 * node's spare capacity split between gateways) turns that into an assignment that wanders by tens
 * of points while nothing changed. So the estimate is the mean of every report since the last
 * change, up to `windowMs` of history (past that, an EWMA with that time constant, so slow drifts
 * are followed). A real step must still be planned for at once (a surge, a gateway going quiet):
 * a change detector on the counts restarts the estimate from the reports after the change —
 *
 * - one report more than `jumpSigmas` standard deviations off the estimate (a Poisson count) restarts
 *   it from that report alone: a doubling at 50 requests/s over 1 s reports is about 6 σ;
 * - a smaller lasting shift accumulates in a two-sided CUSUM (per report, z − `driftSigmas`), and
 *   when that passes `alarmSigmas` the estimate restarts from the reports since the sum left zero:
 *   a halving is found in two to four reports, a 20 % rise at 50 requests/s within about ten.
 *
 * Counts burstier than Poisson make the detector fire more often, which only shortens the average.
 */

export interface RateEstimateOptions {
  /** Longest history the estimate averages over (the EWMA time constant once that much was seen), ms. */
  readonly windowMs: number;
  /** One report this many standard deviations below the estimate restarts it (default 4.5). */
  readonly jumpSigmas?: number;
  /**
   * One report this many standard deviations above restarts it (default 3.5): a surge must be
   * planned for within a report (the closed loop's 15 → 50 requests/s over 0.5 s reports is about
   * 4.5 σ), and a false one only overestimates demand for a few reports.
   */
  readonly jumpUpSigmas?: number;
  /** CUSUM allowance per report, in standard deviations (default 0.5). */
  readonly driftSigmas?: number;
  /** CUSUM threshold, in standard deviations (default 8: about one false restart in 10,000 reports of steady Poisson demand). */
  readonly alarmSigmas?: number;
}

interface Run {
  /** CUSUM statistic (σ). */
  sum: number;
  /** Requests and time since the statistic last left zero. */
  count: number;
  ms: number;
}

export class RateEstimate {
  private rps: number | undefined;
  private ageMs = 0;
  private readonly up: Run = { sum: 0, count: 0, ms: 0 };
  private readonly down: Run = { sum: 0, count: 0, ms: 0 };
  private readonly jump: number;
  private readonly jumpUp: number;
  private readonly drift: number;
  private readonly alarm: number;
  /** Reports that restarted the estimate (not counting the first). */
  restarts = 0;

  constructor(private readonly o: RateEstimateOptions) {
    if (!(o.windowMs > 0)) throw new RangeError(`rate window must be > 0 ms, got ${o.windowMs}`);
    this.jump = o.jumpSigmas ?? 4.5;
    this.jumpUp = o.jumpUpSigmas ?? 3.5;
    this.drift = o.driftSigmas ?? 0.5;
    this.alarm = o.alarmSigmas ?? 8;
  }

  /** `count` requests over the last `elapsedMs`; returns the estimate (requests/s). */
  observe(count: number, elapsedMs: number): number | undefined {
    if (!(elapsedMs > 0) || !(count >= 0)) return this.rps;
    if (this.rps === undefined) {
      this.restart(count, elapsedMs);
      return this.rps;
    }
    const expected = (this.rps * elapsedMs) / 1000;
    // Anscombe's transform: a Poisson count's square root has variance ¼ whatever its mean, so the
    // tails are about normal even at a few requests per report.
    const z = 2 * (Math.sqrt(count + 0.375) - Math.sqrt(expected + 0.375));
    if (z > this.jumpUp || -z > this.jump) {
      this.restarts++;
      this.restart(count, elapsedMs);
      return this.rps;
    }
    const fired = this.accumulate(this.up, z, count, elapsedMs) ?? this.accumulate(this.down, -z, count, elapsedMs);
    if (fired) {
      this.restarts++;
      this.restart(fired.count, fired.ms);
      return this.rps;
    }
    const w = Math.max(1 - Math.exp(-elapsedMs / this.o.windowMs), elapsedMs / (this.ageMs + elapsedMs));
    this.rps += w * ((count * 1000) / elapsedMs - this.rps);
    this.ageMs += elapsedMs;
    return this.rps;
  }

  get value(): number | undefined {
    return this.rps;
  }

  /** History behind the estimate, ms (since the last restart). */
  get historyMs(): number {
    return this.ageMs;
  }

  private accumulate(run: Run, z: number, count: number, ms: number): Run | undefined {
    const sum = Math.max(0, run.sum + z - this.drift);
    if (run.sum === 0) {
      run.count = 0;
      run.ms = 0;
    }
    run.sum = sum;
    if (sum === 0) return undefined;
    run.count += count;
    run.ms += ms;
    return sum > this.alarm ? { ...run } : undefined;
  }

  private restart(count: number, ms: number): void {
    this.rps = (count * 1000) / ms;
    this.ageMs = ms;
    for (const r of [this.up, this.down]) {
      r.sum = 0;
      r.count = 0;
      r.ms = 0;
    }
  }
}

/** Longest demand history for an LRS reporting interval: 30 reports (30 s at the demo's 1 s). */
export function defaultDemandWindowMs(intervalMs: number): number {
  return 30 * intervalMs;
}

/** Reports the change detector needs to restart demand after a doubling or a halving (see RateEstimate). */
export const DEMAND_STEP_REPORTS = 4;
