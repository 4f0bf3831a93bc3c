/**
 * Knative's KPA settings (the `config-autoscaler` ConfigMap) and the decider spec derived from them
 * for one revision. Defaults are knative/serving `pkg/autoscaler/config/config.go` `defaultConfig()`
 * (and `config/core/configmaps/autoscaler.yaml`); the derivation follows
 * `pkg/reconciler/autoscaling/resources/target.go` (ResolveMetricTarget),
 * `pkg/reconciler/autoscaling/resources/metric.go` (panic window) and
 * `pkg/reconciler/autoscaling/kpa/resources/decider.go` (MakeDecider). Pure.
 */

export interface KpaConfig {
  /** `container-concurrency-target-default`: the per-pod concurrency when containerConcurrency is 0. */
  readonly containerConcurrencyTargetDefault: number;
  /** `container-concurrency-target-percentage` as a fraction (70 → 0.7). */
  readonly targetUtilization: number;
  /** `max-scale-up-rate`. */
  readonly maxScaleUpRate: number;
  /** `max-scale-down-rate`. */
  readonly maxScaleDownRate: number;
  /** `target-burst-capacity` (-1 = activator always in the path). */
  readonly targetBurstCapacity: number;
  /** `stable-window`, ms. */
  readonly stableWindowMs: number;
  /** `panic-window-percentage` of the stable window. */
  readonly panicWindowPercentage: number;
  /** `panic-threshold-percentage` (200 → the panic threshold 2). */
  readonly panicThresholdPercentage: number;
  /** `scale-down-delay`, ms. */
  readonly scaleDownDelayMs: number;
  /** `enable-scale-to-zero`. */
  readonly enableScaleToZero: boolean;
  /** `scale-to-zero-grace-period`, ms. */
  readonly scaleToZeroGracePeriodMs: number;
  /** `scale-to-zero-pod-retention-period`, ms. */
  readonly scaleToZeroPodRetentionMs: number;
  /** The metric bucket (knative `config.BucketSize`, 1 s) and so the smallest panic window, ms. */
  readonly bucketMs: number;
  /** How often the decider runs (knative `pkg/autoscaler/scaling/multiscaler.go` tickInterval, 2 s), ms. */
  readonly tickMs: number;
}

/** config-autoscaler's defaults, as Knative ships them. */
export const KNATIVE_KPA_DEFAULTS: KpaConfig = Object.freeze({
  containerConcurrencyTargetDefault: 100,
  targetUtilization: 0.7,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  targetBurstCapacity: 211,
  stableWindowMs: 60_000,
  panicWindowPercentage: 10,
  panicThresholdPercentage: 200,
  scaleDownDelayMs: 0,
  enableScaleToZero: true,
  scaleToZeroGracePeriodMs: 30_000,
  scaleToZeroPodRetentionMs: 0,
  bucketMs: 1000,
  tickMs: 2000,
});

/**
 * The same settings on a faster clock: every duration times `factor` (0.1 → a 6 s stable window, a
 * 0.6 s panic window, 200 ms ticks). Rates and fractions are unitless and stay. The emulated demo
 * uses this so that one scale-up and scale-down cycle fits in a minute.
 */
export function scaleKpaTime(c: KpaConfig, factor: number): KpaConfig {
  if (!(factor > 0 && factor <= 1)) throw new RangeError(`time factor must be in (0, 1], got ${factor}`);
  return Object.freeze({
    ...c,
    stableWindowMs: c.stableWindowMs * factor,
    scaleDownDelayMs: c.scaleDownDelayMs * factor,
    scaleToZeroGracePeriodMs: c.scaleToZeroGracePeriodMs * factor,
    scaleToZeroPodRetentionMs: c.scaleToZeroPodRetentionMs * factor,
    bucketMs: c.bucketMs * factor,
    tickMs: c.tickMs * factor,
  });
}

/** Every problem with `c`, with the ConfigMap key (Knative's `validate()` rules that apply here). */
export function kpaConfigErrors(c: KpaConfig): string[] {
  const errors: string[] = [];
  if (!(c.targetUtilization > 0 && c.targetUtilization <= 1)) errors.push('container-concurrency-target-percentage: must be in (0, 100]');
  if (!(c.containerConcurrencyTargetDefault * c.targetUtilization >= TARGET_MIN))
    errors.push(`container-concurrency-target-default × percentage: must be at least ${TARGET_MIN}`);
  if (!(c.maxScaleUpRate > 1)) errors.push('max-scale-up-rate: must be greater than 1');
  if (!(c.maxScaleDownRate > 1)) errors.push('max-scale-down-rate: must be greater than 1');
  if (!(c.targetBurstCapacity >= 0 || c.targetBurstCapacity === -1)) errors.push('target-burst-capacity: non-negative or -1');
  if (!(c.stableWindowMs > 0)) errors.push('stable-window: must be positive');
  if (!(c.panicWindowPercentage >= 1 && c.panicWindowPercentage <= 100)) errors.push('panic-window-percentage: must be in [1, 100]');
  if (!(c.panicThresholdPercentage >= 110 && c.panicThresholdPercentage <= 1000))
    errors.push('panic-threshold-percentage: must be in [110, 1000]');
  if (!(c.scaleDownDelayMs >= 0)) errors.push('scale-down-delay: cannot be negative');
  if (!(c.scaleToZeroGracePeriodMs > 0)) errors.push('scale-to-zero-grace-period: must be positive');
  if (!(c.scaleToZeroPodRetentionMs >= 0)) errors.push('scale-to-zero-pod-retention-period: cannot be negative');
  if (!(c.bucketMs > 0 && c.tickMs > 0)) errors.push('bucket and tick: must be positive');
  return errors;
}

/** knative `pkg/apis/autoscaling` TargetMin: no target below 0.01. */
export const TARGET_MIN = 0.01;

/** What the decider needs for one revision (knative `scaling.DeciderSpec`, concurrency metric). */
export interface DeciderSpec {
  /** Concurrency per pod the autoscaler aims for. */
  readonly targetValue: number;
  /** Concurrency one pod may take at most (the EBC's capacity per pod). */
  readonly totalValue: number;
  readonly targetBurstCapacity: number;
  readonly panicThreshold: number;
  readonly maxScaleUpRate: number;
  readonly maxScaleDownRate: number;
  readonly stableWindowMs: number;
  readonly scaleDownDelayMs: number;
  /** False while another revision takes the traffic (scale-down limits are then ignored). */
  readonly reachable: boolean;
  /** `autoscaling.knative.dev/activation-scale` (0 or 1: none). */
  readonly activationScale: number;
}

/**
 * ResolveMetricTarget for the concurrency metric: the revision's containerConcurrency (0 → the
 * default, 100), times the utilisation, never below TARGET_MIN.
 */
export function resolveConcurrencyTarget(containerConcurrency: number, c: KpaConfig): { target: number; total: number } {
  const total = containerConcurrency > 0 ? containerConcurrency : c.containerConcurrencyTargetDefault;
  return { target: Math.max(TARGET_MIN, total * c.targetUtilization), total };
}

/** MakeDecider: the decider spec of a revision with `containerConcurrency`. */
export function deciderSpecFor(containerConcurrency: number, c: KpaConfig): DeciderSpec {
  const { target, total } = resolveConcurrencyTarget(containerConcurrency, c);
  return Object.freeze({
    targetValue: target,
    totalValue: total,
    targetBurstCapacity: c.targetBurstCapacity,
    panicThreshold: c.panicThresholdPercentage / 100,
    maxScaleUpRate: c.maxScaleUpRate,
    maxScaleDownRate: c.maxScaleDownRate,
    stableWindowMs: c.stableWindowMs,
    scaleDownDelayMs: c.scaleDownDelayMs,
    reachable: true,
    activationScale: 0,
  });
}

/** MakeMetric's panic window: a percentage of the stable window, rounded to and at least one bucket. */
export function panicWindowMs(c: KpaConfig): number {
  const raw = (c.stableWindowMs * c.panicWindowPercentage) / 100;
  return Math.max(c.bucketMs, Math.round(raw / c.bucketMs) * c.bucketMs);
}
