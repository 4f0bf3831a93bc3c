import type { SampledNodeInput } from './control-plane-views.js';
import type { RequestRecord } from './stats.js';

/**
 * How close the service time a policy planned with came to what the pods really took (pure): per
 * node, the pods' true mean time in the user container over the measured part of a level (from each
 * request's reply), against every control-plane sample taken in that part — the service time the
 * policy's model used, and the pods' raw app latency signal beside it.
 */

/** Relative error within which a used service time counts as right. */
export const SERVICE_TIME_TOLERANCE = 0.1;

export interface NodeServiceTimeAccuracy {
  /** Mean user-container time of the requests the node served in the measured part, ms. */
  readonly trueMeanMs: number;
  readonly requests: number;
  /** Samples with a model value, and the share of them within the tolerance of the true mean. */
  readonly samples: number;
  readonly modelWithinShare: number;
  /** The same for the pods' raw app-latency signal. */
  readonly rawWithinShare: number;
  /** Range of the model's values over the samples, ms. */
  readonly modelMinMs: number;
  readonly modelMaxMs: number;
}

export interface ServiceTimeAccuracy {
  readonly tolerance: number;
  readonly byNode: Record<string, NodeServiceTimeAccuracy>;
  /** Share of samples in which every node that served requests was within the tolerance (model values). */
  readonly modelWithinShare: number;
  readonly rawWithinShare: number;
  readonly samples: number;
}

interface Sample {
  readonly tMs: number;
  readonly inputs?: Record<string, SampledNodeInput>;
}

const within = (value: number | undefined, truth: number) =>
  value !== undefined && Number.isFinite(value) && Math.abs(value - truth) <= SERVICE_TIME_TOLERANCE * truth;

/**
 * Accuracy over the measured part of a level: records and samples from `fromMs` on (both on the
 * level's clock). Nodes that served fewer than `minRequests` requests have no meaningful true mean
 * and are left out. Undefined when no sample carried model values.
 */
export function serviceTimeAccuracy(
  records: readonly RequestRecord[],
  samples: readonly unknown[],
  fromMs: number,
  minRequests = 50,
): ServiceTimeAccuracy | undefined {
  const truth = new Map<string, { sum: number; n: number }>();
  for (const r of records) {
    if (!r.ok || r.startMs < fromMs || r.serviceMs === undefined) continue;
    const t = truth.get(r.servedBy) ?? { sum: 0, n: 0 };
    t.sum += r.serviceMs;
    t.n++;
    truth.set(r.servedBy, t);
  }
  const nodes = [...truth].filter(([, t]) => t.n >= minRequests).map(([n, t]) => ({ node: n, meanMs: t.sum / t.n, requests: t.n }));
  const measured = (samples as Sample[]).filter(
    (s) => s.tMs >= fromMs && s.inputs && nodes.some((n) => s.inputs![n.node]?.modelServiceTimeMs !== undefined),
  );
  if (nodes.length === 0 || measured.length === 0) return undefined;
  const byNode: Record<string, NodeServiceTimeAccuracy> = {};
  for (const n of nodes) {
    const model = measured.map((s) => s.inputs![n.node]?.modelServiceTimeMs).filter((v): v is number => v !== undefined);
    const raw = measured.map((s) => s.inputs![n.node]?.podAppLatencyMs);
    byNode[n.node] = {
      trueMeanMs: round(n.meanMs),
      requests: n.requests,
      samples: model.length,
      modelWithinShare: round(model.length ? model.filter((v) => within(v, n.meanMs)).length / model.length : 0),
      rawWithinShare: round(raw.filter((v) => within(v, n.meanMs)).length / measured.length),
      modelMinMs: round(Math.min(...model)),
      modelMaxMs: round(Math.max(...model)),
    };
  }
  const all = (pick: (x: SampledNodeInput | undefined) => number | undefined) =>
    round(measured.filter((s) => nodes.every((n) => within(pick(s.inputs![n.node]), n.meanMs))).length / measured.length);
  return {
    tolerance: SERVICE_TIME_TOLERANCE,
    byNode,
    modelWithinShare: all((x) => x?.modelServiceTimeMs),
    rawWithinShare: all((x) => x?.podAppLatencyMs),
    samples: measured.length,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
