/**
 * A FIFO concurrency gate like Knative's queue-proxy with `containerConcurrency`: at most `limit`
 * requests run at once; the rest wait in arrival order. `limit` 0 means unlimited.
 *
 * Time is the caller's (ms on one clock): a slot is handed to the next waiter as of the moment the
 * previous request's service ended (`release(endMs)`), not when the emulator's event loop got round
 * to it. A real pod's throughput does not depend on the emulator's timer lateness; without this, a
 * few ms of event-loop delay per request on busy cores lengthened every hold and took the demo's
 * 50-user level (83 % of the pods' capacity) past 100 % into seconds of queueing.
 */
export interface GateSlot {
  /** When the request took the slot: its arrival, or the end of the service it waited for. */
  readonly startedMs: number;
  /** Free the slot as of `endMs` (the service's end); call exactly once. */
  release(endMs: number): void;
}

interface Waiter {
  readonly arrivedMs: number;
  readonly resolve: (startedMs: number) => void;
}

export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly limit: number) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves when the caller may run, with the time it took the slot. */
  async acquire(arrivedMs: number): Promise<GateSlot> {
    if (this.limit <= 0 || this.running < this.limit) {
      this.running++;
      return this.slot(arrivedMs);
    }
    const startedMs = await new Promise<number>((resolve) => this.waiting.push({ arrivedMs, resolve }));
    return this.slot(startedMs);
  }

  private slot(startedMs: number): GateSlot {
    let released = false;
    return {
      startedMs,
      release: (endMs: number) => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next.resolve(Math.max(endMs, next.arrivedMs));
        else this.running--;
      },
    };
  }
}
