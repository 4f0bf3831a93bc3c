/**
 * The one place that decides when the control plane reconciles: requests coalesce until `debounceMs`
 * passed without a new one, but never longer than `maxDelayMs` after the first (a steady trickle of
 * changes still gets published). `notBeforeMs` can push a run later (the engine's budget for full
 * recomputes). Time and timers are injected for tests.
 */
export interface TickOptions {
  readonly debounceMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_TICK: TickOptions = Object.freeze({ debounceMs: 5, maxDelayMs: 100 });

export interface TickDeps {
  /** The reconcile step. */
  run(): void;
  /** Earliest time (performance.now() clock) a run may start; default: any time. */
  notBeforeMs?(): number;
  nowMs?(): number;
}

export class ReconcileTick {
  private firstRequestMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dueMs = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly options: TickOptions,
    private readonly deps: TickDeps,
  ) {
    this.now = deps.nowMs ?? (() => performance.now());
  }

  /** Something changed: run soon. */
  request(): void {
    if (this.closed) return;
    const now = this.now();
    this.firstRequestMs ??= now;
    let due = Math.min(now + this.options.debounceMs, this.firstRequestMs + this.options.maxDelayMs);
    due = Math.max(due, this.deps.notBeforeMs?.() ?? 0);
    if (this.timer && due === this.dueMs) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueMs = due;
    this.timer = setTimeout(() => this.runNow(), Math.max(0, due - now));
    this.timer.unref?.();
  }

  /** Run now (cancels a pending run). */
  runNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstRequestMs = undefined;
    if (this.closed) return;
    this.deps.run();
  }

  /** True while a run is scheduled. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
