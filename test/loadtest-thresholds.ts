/**
 * k6's threshold rules, checked before a run instead of at `k6 run` start-up on a cluster: each
 * key names a known metric (optionally a submetric `name{tag:value}`), each expression uses an
 * aggregation that metric type supports (k6 rejects e.g. `p(95)` on a Rate).
 */

export type K6MetricType = 'counter' | 'rate' | 'trend' | 'gauge';

export const BUILTIN_METRICS: Readonly<Record<string, K6MetricType>> = {
  checks: 'rate',
  iterations: 'counter',
  dropped_iterations: 'counter',
  iteration_duration: 'trend',
  http_reqs: 'counter',
  http_req_failed: 'rate',
  http_req_duration: 'trend',
  grpc_req_duration: 'trend',
  grpc_streams: 'counter',
  grpc_streams_msgs_sent: 'counter',
  grpc_streams_msgs_received: 'counter',
};

const AGGREGATIONS: Readonly<Record<K6MetricType, RegExp>> = {
  counter: /^(count|rate)$/,
  gauge: /^value$/,
  rate: /^rate$/,
  trend: /^(avg|min|max|med|p\(\d+(\.\d+)?\))$/,
};

const EXPRESSION = /^\s*(count|rate|value|avg|min|max|med|p\(\d+(?:\.\d+)?\))\s*(<=|>=|<|>|===|==|!=)\s*(-?\d+(?:\.\d+)?)\s*$/;
const KEY = /^([A-Za-z_][A-Za-z0-9_]*)(\{([^{}]+)\})?$/;

/** Every problem with `thresholds`, given the metric types the script defines. Empty = valid. */
export function thresholdErrors(thresholds: Record<string, unknown>, custom: ReadonlyMap<string, K6MetricType>): string[] {
  const errors: string[] = [];
  for (const [key, list] of Object.entries(thresholds)) {
    const m = KEY.exec(key);
    if (!m) {
      errors.push(`${key}: not metric or metric{tag:value}`);
      continue;
    }
    const type = custom.get(m[1]!) ?? BUILTIN_METRICS[m[1]!];
    if (!type) errors.push(`${key}: unknown metric ${m[1]}`);
    if (m[3] !== undefined) {
      for (const sel of m[3].split(','))
        if (!/^[A-Za-z_][A-Za-z0-9_]*:[^:]+$/.test(sel.trim())) errors.push(`${key}: bad tag selector "${sel}"`);
    }
    if (!Array.isArray(list) || list.length === 0) {
      errors.push(`${key}: expected a non-empty list`);
      continue;
    }
    for (const t of list) {
      const expr = typeof t === 'string' ? t : (t as { threshold?: unknown }).threshold;
      const e = typeof expr === 'string' ? EXPRESSION.exec(expr) : null;
      if (!e) errors.push(`${key}: "${String(expr)}" is not a threshold expression`);
      else if (type && !AGGREGATIONS[type].test(e[1]!)) errors.push(`${key}: ${e[1]} does not apply to a ${type}`);
    }
  }
  return errors;
}
