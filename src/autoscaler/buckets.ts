/**
 * A window average over time buckets, as knative/serving `pkg/autoscaler/aggregation/bucketing.go`
 * (TimedFloat64Buckets, the default "linear" algorithm) keeps the autoscaler's stable and panic
 * concurrency: values recorded in the same bucket add up (one scrape of every pod per bucket gives
 * the revision's total), the average runs over the buckets since the first write when that is less
 * than a window ago, and a window without writes starts over. Time is passed in (ms).
 */
export class WindowBuckets {
  private readonly buckets: number[];
  private firstWrite = NaN;
  private lastWrite = NaN;
  private windowTotal = 0;

  constructor(
    readonly windowMs: number,
    readonly bucketMs: number,
  ) {
    if (!(bucketMs > 0 && windowMs >= bucketMs)) throw new RangeError('need 0 < bucketMs <= windowMs');
    this.buckets = new Array<number>(Math.ceil(windowMs / bucketMs)).fill(0);
  }

  private index(tMs: number): number {
    return Math.floor(tMs / this.bucketMs);
  }

  private slot(index: number): number {
    const n = this.buckets.length;
    return ((index % n) + n) % n;
  }

  /** Add `value` to the bucket of `nowMs`; a value older than a window before the last write is ignored. */
  record(nowMs: number, value: number): void {
    const bucketTime = this.index(nowMs) * this.bucketMs;
    if (bucketTime !== this.lastWrite) {
      if (!Number.isNaN(this.lastWrite) && !(bucketTime + this.windowMs > this.lastWrite)) return;
      if (Number.isNaN(this.firstWrite) || this.firstWrite > bucketTime) this.firstWrite = bucketTime;
      if (Number.isNaN(this.lastWrite) || bucketTime > this.lastWrite) {
        if (!Number.isNaN(this.lastWrite) && bucketTime - this.lastWrite >= this.windowMs) {
          // No writes for a whole window: start over.
          this.firstWrite = bucketTime;
          this.buckets.fill(0);
          this.windowTotal = 0;
        } else if (!Number.isNaN(this.lastWrite)) {
          for (let i = this.index(this.lastWrite) + 1; i <= this.index(nowMs); i++) {
            const s = this.slot(i);
            this.windowTotal -= this.buckets[s]!;
            this.buckets[s] = 0;
          }
        }
        this.lastWrite = bucketTime;
      }
    }
    this.buckets[this.slot(this.index(nowMs))]! += value;
    this.windowTotal += value;
  }

  /** True when nothing was recorded within a window of `nowMs`. */
  isEmpty(nowMs: number): boolean {
    return Number.isNaN(this.lastWrite) || this.index(nowMs) * this.bucketMs - this.lastWrite >= this.windowMs;
  }

  /** The average bucket value over the window ending at `nowMs` (0 when nothing was written for a window). */
  windowAverage(nowMs: number): number {
    if (Number.isNaN(this.lastWrite)) return 0;
    const now = this.index(nowMs) * this.bucketMs;
    const d = now - this.lastWrite;
    const written = (this.lastWrite - this.firstWrite) / this.bucketMs + 1;
    if (d <= 0) return round6(this.windowTotal / Math.min(written, this.buckets.length));
    if (d < this.windowMs) {
      const st = this.index(this.lastWrite);
      const e = this.index(now);
      let total = this.windowTotal;
      for (let i = st + 1; i <= e; i++) total -= this.buckets[this.slot(i)]!;
      return round6(total / Math.min(written, this.buckets.length - (e - st)));
    }
    return 0;
  }
}

/** bucketing.go rounds averages to 6 digits (its `precision`). */
function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
