/**
 * EWMA over time: a sample covering `elapsedMs` gets weight 1 − e^(−elapsedMs/τ), so the average
 * forgets at the same speed whatever the reporting interval is.
 */
export class TimeEwma {
  private current: number | undefined;

  /**
   * @param tauMs time constant of the average
   * @param riseTauMs time constant used when a sample is above the average (default: tauMs); a
   *   shorter one makes the estimate rise fast and fall slowly, as capacity planning wants for demand
   */
  constructor(
    readonly tauMs: number,
    readonly riseTauMs: number = tauMs,
  ) {
    if (!(tauMs > 0)) throw new RangeError(`EWMA time constant must be > 0 ms, got ${tauMs}`);
    if (!(riseTauMs > 0)) throw new RangeError(`EWMA rise time constant must be > 0 ms, got ${riseTauMs}`);
  }

  observe(sample: number, elapsedMs: number): number {
    if (this.current === undefined) this.current = sample;
    else {
      const tau = sample > this.current ? this.riseTauMs : this.tauMs;
      const w = 1 - Math.exp(-Math.max(0, elapsedMs) / tau);
      this.current += w * (sample - this.current);
    }
    return this.current;
  }

  get value(): number | undefined {
    return this.current;
  }
}
