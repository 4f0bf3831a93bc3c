import type { PromSample } from './prom-text.js';

/**
 * The request metrics a queue-proxy serves on its user-metrics port (9091), reduced to one pod's
 * cumulative totals. Two naming eras are accepted (knative/serving `pkg/queue/request_metric.go`):
 *
 * - OpenCensus (up to v1.18): `revision_request_latencies` (ms histogram, measured by the outer
 *   handler, so queue wait included), `revision_app_request_latencies` (ms, user container only),
 *   `revision_request_count`, `revision_app_request_count`, `revision_queue_depth`; every series
 *   carries `pod_name` and the revision labels.
 * - OpenTelemetry (v1.19 on, with `request-metrics-protocol: prometheus`):
 *   `kn_serving_invocation_duration_seconds` (s, user container; `kn_queueproxy_app_duration_seconds`
 *   in early 1.19/1.20 releases), `http_server_request_duration_seconds` (s, outer handler),
 *   `kn_serving_queue_depth`; revision labels only on `target_info`, so a series is identified by the
 *   pod it was scraped from.
 *
 * A scrape covers exactly one pod, so every series in it is summed (over response codes, methods…).
 */

export type UserMetricsEra = 'opencensus' | 'opentelemetry';

export interface UserMetricsTotals {
  readonly era: UserMetricsEra;
  /** Requests seen by the outer handler (queue wait included) and the sum of their latencies, ms. */
  readonly request?: { readonly count: number; readonly sumMs: number };
  /** Requests seen by the user container and the sum of their latencies, ms. */
  readonly app?: { readonly count: number; readonly sumMs: number };
  /** Requests in the queue-proxy now (serving and waiting). */
  readonly queueDepth?: number;
  /** The pod the series name (`pod_name`, or `k8s_pod_name` on `target_info`), when present. */
  readonly podName?: string;
}

interface HistogramNames {
  readonly sum: string;
  readonly count: string;
  /** Multiply the sum by this to get milliseconds. */
  readonly toMs: number;
}

const OPENCENSUS = {
  request: { sum: 'revision_request_latencies_sum', count: 'revision_request_latencies_count', toMs: 1 },
  app: { sum: 'revision_app_request_latencies_sum', count: 'revision_app_request_latencies_count', toMs: 1 },
  queueDepth: ['revision_queue_depth'],
} as const;

const OPENTELEMETRY = {
  request: { sum: 'http_server_request_duration_seconds_sum', count: 'http_server_request_duration_seconds_count', toMs: 1000 },
  app: [
    { sum: 'kn_serving_invocation_duration_seconds_sum', count: 'kn_serving_invocation_duration_seconds_count', toMs: 1000 },
    { sum: 'kn_queueproxy_app_duration_seconds_sum', count: 'kn_queueproxy_app_duration_seconds_count', toMs: 1000 },
  ],
  queueDepth: ['kn_serving_queue_depth', 'kn_queueproxy_queue_depth'],
} as const;

function total(byName: ReadonlyMap<string, number[]>, name: string): number | undefined {
  const values = byName.get(name);
  if (!values) return undefined;
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
}

function histogram(byName: ReadonlyMap<string, number[]>, h: HistogramNames): { count: number; sumMs: number } | undefined {
  const count = total(byName, h.count);
  const sum = total(byName, h.sum);
  if (count === undefined || sum === undefined) return undefined;
  return { count, sumMs: sum * h.toMs };
}

/**
 * One pod's totals from the samples of its 9091 scrape; `undefined` when the scrape holds none of
 * the known metrics (not a queue-proxy, or garbage). Negative or non-finite values make the
 * affected metric unknown rather than wrong.
 */
export function userMetricsTotals(samples: readonly PromSample[]): UserMetricsTotals | undefined {
  const byName = new Map<string, number[]>();
  let podName: string | undefined;
  for (const s of samples) {
    if (s.name === 'target_info') podName ??= s.labels['k8s_pod_name'];
    if (!Number.isFinite(s.value) || s.value < 0) {
      byName.set(s.name, [NaN]);
      continue;
    }
    podName ??= s.labels['pod_name'];
    const list = byName.get(s.name);
    if (list) list.push(s.value);
    else byName.set(s.name, [s.value]);
  }
  const valid = (h: { count: number; sumMs: number } | undefined) =>
    h && Number.isFinite(h.count) && Number.isFinite(h.sumMs) ? h : undefined;
  const first = (names: readonly string[]) => {
    for (const n of names) {
      const v = total(byName, n);
      if (v !== undefined && Number.isFinite(v)) return v;
    }
    return undefined;
  };
  const ocRequest = valid(histogram(byName, OPENCENSUS.request));
  const ocApp = valid(histogram(byName, OPENCENSUS.app));
  if (ocRequest || ocApp) {
    const queueDepth = first(OPENCENSUS.queueDepth);
    return {
      era: 'opencensus',
      ...(ocRequest ? { request: ocRequest } : {}),
      ...(ocApp ? { app: ocApp } : {}),
      ...(queueDepth !== undefined ? { queueDepth } : {}),
      ...(podName ? { podName } : {}),
    };
  }
  const otRequest = valid(histogram(byName, OPENTELEMETRY.request));
  const otApp = OPENTELEMETRY.app.map((h) => valid(histogram(byName, h))).find((h) => h !== undefined);
  const queueDepth = first(OPENTELEMETRY.queueDepth);
  if (!otRequest && !otApp && queueDepth === undefined) return undefined;
  return {
    era: 'opentelemetry',
    ...(otRequest ? { request: otRequest } : {}),
    ...(otApp ? { app: otApp } : {}),
    ...(queueDepth !== undefined ? { queueDepth } : {}),
    ...(podName ? { podName } : {}),
  };
}
