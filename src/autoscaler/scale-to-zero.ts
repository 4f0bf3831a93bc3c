import type { KpaConfig } from './config.js';

/**
 * When a decision of 0 pods may take effect, as the KPA reconciler's `handleScaleToZero`
 * (knative/serving `pkg/reconciler/autoscaling/kpa/scaler.go`) decides it: an active revision is
 * held at one pod until it has been active a stable window, then marked inactive (its SKS goes to
 * Proxy: the activator takes the traffic); an inactive revision goes to zero once it has been
 * inactive for the larger of the grace period and the last-pod retention. The activator probe is not
 * modelled: the emulated SKS switches to Proxy at once. Any decision above zero (re)activates.
 * Pure apart from its own state; time is passed in (ms).
 */
export type Activity = 'active' | 'inactive';

export interface ZeroDecision {
  /** Pods to run: the decision, or 1 while waiting, or the current count while turning inactive. */
  readonly pods: number;
  readonly activity: Activity;
  /** Why the pod count differs from the decision (empty when it does not). */
  readonly reason: string;
}

export class ScaleToZeroGate {
  private activity: Activity = 'active';
  private sinceMs: number;

  constructor(
    private readonly cfg: KpaConfig,
    nowMs: number,
  ) {
    this.sinceMs = nowMs;
  }

  get state(): { activity: Activity; sinceMs: number } {
    return { activity: this.activity, sinceMs: this.sinceMs };
  }

  apply(desiredPods: number, currentPods: number, nowMs: number): ZeroDecision {
    if (desiredPods > 0) {
      if (this.activity === 'inactive') {
        this.activity = 'active';
        this.sinceMs = nowMs;
      }
      return { pods: desiredPods, activity: this.activity, reason: '' };
    }
    if (!this.cfg.enableScaleToZero) return { pods: 1, activity: this.activity, reason: 'enable-scale-to-zero is false' };
    if (this.activity === 'active') {
      const activeForMs = nowMs - this.sinceMs;
      if (activeForMs < this.cfg.stableWindowMs)
        return { pods: 1, activity: 'active', reason: `active for ${activeForMs} ms < stable window ${this.cfg.stableWindowMs} ms` };
      this.activity = 'inactive';
      this.sinceMs = nowMs;
      return { pods: currentPods, activity: 'inactive', reason: 'marked inactive: the activator takes the traffic' };
    }
    const needMs = Math.max(this.cfg.scaleToZeroGracePeriodMs, this.cfg.scaleToZeroPodRetentionMs);
    const inactiveForMs = nowMs - this.sinceMs;
    if (inactiveForMs >= needMs) return { pods: 0, activity: 'inactive', reason: '' };
    return { pods: currentPods, activity: 'inactive', reason: `inactive for ${inactiveForMs} ms < grace period ${needMs} ms` };
  }
}
