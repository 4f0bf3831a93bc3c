/**
 * A FIFO concurrency gate like Knative's queue-proxy with `containerConcurrency`: at most `limit`
 * requests run at once; the rest wait in arrival order. `limit` 0 means unlimited.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves when the caller may run; call the returned release exactly once when done. */
  async acquire(): Promise<() => void> {
    if (this.limit <= 0 || this.running < this.limit) {
      this.running++;
      return this.releaser();
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}
