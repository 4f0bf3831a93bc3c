import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ExtenderVerb = 'filter' | 'prioritize' | 'other';
export type ExtenderOutcome =
  'ok' | 'passthrough' | 'bad_request' | 'too_large' | 'method_not_allowed' | 'not_found' | 'timeout' | 'error' | 'unauthorized';

export interface ExtenderMetrics {
  readonly requests: Counter<'verb' | 'outcome'>;
  readonly duration: Histogram<'verb'>;
  readonly nodesFiltered: Counter<'reason'>;
  readonly failOpen: Counter;
  readonly placementsPending: Gauge;
  readonly placements: Counter<'result'>;
  readonly connectionsRefused: Counter<'reason'>;
}

export function createExtenderMetrics(registry: Registry): ExtenderMetrics {
  return {
    requests: new Counter({
      name: 'proxima_extender_requests_total',
      help: 'kube-scheduler extender requests by verb (filter, prioritize, other) and outcome (ok, passthrough for non-function pods, bad_request, too_large, method_not_allowed, not_found, timeout, error).',
      labelNames: ['verb', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'proxima_extender_request_duration_seconds',
      help: 'Time from the first request byte to the reply, by verb.',
      labelNames: ['verb'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    nodesFiltered: new Counter({
      name: 'proxima_extender_nodes_filtered_total',
      help: 'Candidate nodes rejected by the filter verb, by reason (unknown_node, no_gateway, not_ready, unreachable).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    failOpen: new Counter({
      name: 'proxima_extender_filter_fail_open_total',
      help: 'Filter calls where every candidate would have been rejected and all were let through instead.',
      registers: [registry],
    }),
    placementsPending: new Gauge({
      name: 'proxima_extender_placements_pending',
      help: 'Pods placed by prioritize that have not become ready endpoints yet.',
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: 'proxima_extender_connections_refused_total',
      help: 'Extender connections closed at accept, by reason (per_peer, total).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    placements: new Counter({
      name: 'proxima_extender_placements_total',
      help: 'Pending placements by result: placed (prioritize chose a node), fulfilled (a ready endpoint appeared there), expired (TTL passed first), refused (--max-pending-placements reached: the scores stand, the pod is not counted as pending).',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
