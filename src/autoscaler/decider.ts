import type { DeciderSpec } from './config.js';

/**
 * The KPA's scaling decision for one revision, as knative/serving
 * `pkg/autoscaler/scaling/autoscaler.go` (`Scale`) makes it every tick: desired pods from the stable
 * and panic window concurrency over the per-pod target, bounded by the scale-up and scale-down
 * rates; panic mode (panic desired ≥ threshold × ready pods) only ever scales up and ends a stable
 * window after the last over-threshold tick; scale-down delay keeps the largest decision of the last
 * `scaleDownDelayMs`; the excess burst capacity decides whether the activator stays in the path.
 * Pure apart from its own state; time is passed in (ms).
 */

export interface ScaleInput {
  /** Ready pods of the revision (the SKS private endpoints). */
  readonly readyPods: number;
  /** Average concurrency over the stable and the panic window; undefined: no data yet. */
  readonly stableConcurrency: number | undefined;
  readonly panicConcurrency: number | undefined;
}

export interface ScaleResult {
  readonly desiredPods: number;
  /** Negative: not enough spare capacity for the target burst, the activator stays in the path. */
  readonly excessBurstCapacity: number;
  /** False when there was no data to decide on (Knative's invalidSR: no change). */
  readonly valid: boolean;
  readonly panicking: boolean;
}

const INVALID: ScaleResult = Object.freeze({ desiredPods: 0, excessBurstCapacity: 0, valid: false, panicking: false });

/**
 * A running maximum over the last `size` ticks (knative `pkg/autoscaler/aggregation/max/window.go`,
 * TimeWindow): the scale-down delay.
 */
export class MaxTimeWindow {
  private entries: Array<{ index: number; value: number }> = [];
  private readonly size: number;

  constructor(
    durationMs: number,
    readonly granularityMs: number,
  ) {
    this.size = Math.max(1, Math.ceil(durationMs / granularityMs));
  }

  record(nowMs: number, value: number): void {
    const index = Math.floor(nowMs / this.granularityMs);
    while (this.entries.length > 0 && value >= this.entries[this.entries.length - 1]!.value) this.entries.pop();
    while (this.entries.length > 0 && index - this.entries[0]!.index >= this.size) this.entries.shift();
    this.entries.push({ index, value });
  }

  current(): number {
    return this.entries[0]?.value ?? 0;
  }
}

export class KpaDecider {
  private panicSinceMs: number | undefined;
  private maxPanicPods: number;
  private readonly delayWindow: MaxTimeWindow | undefined;

  /**
   * A decider created for a revision that already has more than one ready pod starts in panic mode
   * holding that count, so a restarted autoscaler does not scale down before it has data (as Knative).
   */
  constructor(
    private spec: DeciderSpec,
    readyPodsAtStart: number,
    nowMs: number,
    tickMs: number,
  ) {
    this.panicSinceMs = readyPodsAtStart > 1 ? nowMs : undefined;
    this.maxPanicPods = readyPodsAtStart;
    this.delayWindow = spec.scaleDownDelayMs > 0 ? new MaxTimeWindow(spec.scaleDownDelayMs, tickMs) : undefined;
  }

  get panicking(): boolean {
    return this.panicSinceMs !== undefined;
  }

  update(spec: DeciderSpec): void {
    this.spec = spec;
  }

  scale(input: ScaleInput, nowMs: number): ScaleResult {
    const spec = this.spec;
    if (input.stableConcurrency === undefined || input.panicConcurrency === undefined) return INVALID;
    const observedStable = input.stableConcurrency;
    const observedPanic = input.panicConcurrency;
    const readyPods = Math.max(1, input.readyPods);
    const maxScaleUp = Math.ceil(spec.maxScaleUpRate * readyPods);
    const maxScaleDown = spec.reachable ? Math.floor(readyPods / spec.maxScaleDownRate) : 0;

    const dspc = Math.ceil(observedStable / spec.targetValue);
    const dppc = Math.ceil(observedPanic / spec.targetValue);
    let desiredStable = Math.min(Math.max(dspc, maxScaleDown), maxScaleUp);
    let desiredPanic = Math.min(Math.max(dppc, maxScaleDown), maxScaleUp);
    if (spec.activationScale > 1) {
      if (dspc > 0 && spec.activationScale > desiredStable) desiredStable = spec.activationScale;
      if (dppc > 0 && spec.activationScale > desiredPanic) desiredPanic = spec.activationScale;
    }

    const overPanicThreshold = dppc / readyPods >= spec.panicThreshold;
    if (overPanicThreshold) this.panicSinceMs = nowMs;
    else if (this.panicSinceMs !== undefined && this.panicSinceMs + spec.stableWindowMs < nowMs) {
      // The surge has made its way into the stable window.
      this.panicSinceMs = undefined;
      this.maxPanicPods = 0;
    }

    let desired = desiredStable;
    if (this.panicSinceMs !== undefined) {
      // Provision for the larger of the two, and never scale down while panicking.
      desired = Math.max(desired, desiredPanic);
      if (desired > this.maxPanicPods) this.maxPanicPods = desired;
      desired = this.maxPanicPods;
    }

    if (spec.reachable && this.delayWindow) {
      this.delayWindow.record(nowMs, desired);
      desired = this.delayWindow.current();
    }

    let ebc = -1;
    if (spec.targetBurstCapacity === 0) ebc = 0;
    else if (spec.targetBurstCapacity > 0) ebc = Math.floor(input.readyPods * spec.totalValue - spec.targetBurstCapacity - observedPanic);
    return { desiredPods: desired, excessBurstCapacity: ebc, valid: true, panicking: this.panicSinceMs !== undefined };
  }
}
