import { WindowBuckets } from './buckets.js';
import { deciderSpecFor, kpaConfigErrors, panicWindowMs, type KpaConfig } from './config.js';
import { KpaDecider } from './decider.js';
import { ScaleToZeroGate, type Activity } from './scale-to-zero.js';

/**
 * The KPA for one revision, without I/O: scraped stats go into the stable and panic windows (the
 * metric collector, knative `pkg/autoscaler/metrics/collector.go`), every tick the decider decides
 * and the scale-to-zero rules gate a decision of zero.
 */

/** One scrape round: every pod's queue-proxy Stat (and the activator's) for the revision. */
export interface RevisionStat {
  /** Sum over pods of `average_concurrent_requests - average_proxied_concurrent_requests`. */
  readonly concurrency: number;
}

export interface TickResult {
  readonly atMs: number;
  readonly stableConcurrency: number;
  readonly panicConcurrency: number;
  /** What the decider wanted (before the scale-to-zero rules). */
  readonly decided: number;
  /** Pods the revision should run now. */
  readonly wantPods: number;
  readonly excessBurstCapacity: number;
  readonly panicking: boolean;
  readonly activity: Activity;
  readonly reason: string;
  readonly valid: boolean;
}

export class RevisionAutoscaler {
  private readonly stable: WindowBuckets;
  private readonly panic: WindowBuckets;
  private readonly decider: KpaDecider;
  private readonly gate: ScaleToZeroGate;

  constructor(
    readonly config: KpaConfig,
    containerConcurrency: number,
    readyPodsAtStart: number,
    nowMs: number,
  ) {
    const errors = kpaConfigErrors(config);
    if (errors.length > 0) throw new RangeError(`config-autoscaler: ${errors.join('; ')}`);
    this.stable = new WindowBuckets(config.stableWindowMs, config.bucketMs);
    this.panic = new WindowBuckets(panicWindowMs(config), config.bucketMs);
    this.decider = new KpaDecider(deciderSpecFor(containerConcurrency, config), readyPodsAtStart, nowMs, config.tickMs);
    this.gate = new ScaleToZeroGate(config, nowMs);
  }

  record(nowMs: number, stat: RevisionStat): void {
    this.stable.record(nowMs, stat.concurrency);
    this.panic.record(nowMs, stat.concurrency);
  }

  tick(nowMs: number, readyPods: number, currentPods: number): TickResult {
    const empty = this.stable.isEmpty(nowMs);
    const stableConcurrency = this.stable.windowAverage(nowMs);
    const panicConcurrency = this.panic.windowAverage(nowMs);
    const r = this.decider.scale(
      empty ? { readyPods, stableConcurrency: undefined, panicConcurrency: undefined } : { readyPods, stableConcurrency, panicConcurrency },
      nowMs,
    );
    const base = { atMs: nowMs, stableConcurrency, panicConcurrency, excessBurstCapacity: r.excessBurstCapacity, panicking: r.panicking };
    if (!r.valid)
      return { ...base, decided: currentPods, wantPods: currentPods, activity: this.gate.state.activity, reason: 'no data', valid: false };
    const z = this.gate.apply(r.desiredPods, currentPods, nowMs);
    return { ...base, decided: r.desiredPods, wantPods: z.pods, activity: z.activity, reason: z.reason, valid: true };
  }
}
