import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { ClusterTranslation } from './translate.js';

/** Metrics of the Kubernetes source. */
export function createKubernetesMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: 'proxima_kubernetes_events_total',
      help: 'Informer events by resource and type (add, update, delete).',
      labelNames: ['resource', 'type'] as const,
      registers: [registry],
    }),
    lists: new Counter({
      name: 'proxima_kubernetes_lists_total',
      help: 'Full lists per resource: the initial sync plus relists (410 Gone, restarts).',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    watchErrors: new Counter({
      name: 'proxima_kubernetes_watch_errors_total',
      help: 'List/watch failures per resource; each is retried with exponential back-off.',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    synced: new Gauge({
      name: 'proxima_kubernetes_synced',
      help: '1 once the resource has been listed successfully.',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
    ingresses: new Gauge({
      name: 'proxima_kubernetes_ingresses',
      help: 'KIngresses of the configured class by translation outcome (ok, pending, unsupported); ignored = another class.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    skippedEndpoints: new Gauge({
      name: 'proxima_kubernetes_skipped_endpoints',
      help: 'Endpoint addresses left out of the model: unknown_node (nodeName not a known Node), missing_node (no nodeName).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    invalidObjects: new Gauge({
      name: 'proxima_kubernetes_invalid_objects',
      help: 'Objects ignored because they lack required fields (e.g. metadata.name), at the last translation.',
      registers: [registry],
    }),
    dataPath: new Gauge({
      name: 'proxima_kubernetes_revision_data_path',
      help: "Per Knative revision (public Service): ready pods, labelled with the ServerlessService mode (Serve, Proxy), Proxima's choice (bypass, keep) and what the gateways reach first (pods, activator).",
      labelNames: ['service', 'sks_mode', 'choice', 'path'] as const,
      registers: [registry],
    }),
    translateSeconds: new Histogram({
      name: 'proxima_kubernetes_translate_seconds',
      help: 'Time to translate the informer caches into the model.',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    statusWrites: new Counter({
      name: 'proxima_kubernetes_status_writes_total',
      help: 'KIngress status patches by outcome (ok, error).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    finalizerWrites: new Counter({
      name: 'proxima_kubernetes_finalizer_writes_total',
      help: 'KIngress finalizer patches (add, remove) by outcome (ok, error).',
      labelNames: ['action', 'outcome'] as const,
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'proxima_kubernetes_leader',
      help: '1 while this replica holds the leader Lease (or runs without leader election), else 0.',
      registers: [registry],
    }),
    measurementWrites: new Counter({
      name: 'proxima_kubernetes_measurement_writes_total',
      help: 'ProximaMeasurement writes of this replica by outcome (ok, error).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    invalidMeasurementRows: new Gauge({
      name: 'proxima_kubernetes_invalid_measurement_rows',
      help: 'Malformed rows in ProximaMeasurement objects at the last merge (ignored).',
      registers: [registry],
    }),
  };
}

export type KubernetesMetrics = ReturnType<typeof createKubernetesMetrics>;

/** Gauges of one translation, and a log line per revision whose data path changed since `prev`. */
export function reportTranslation(
  metrics: KubernetesMetrics,
  log: Logger,
  t: ClusterTranslation,
  prev: ClusterTranslation | undefined,
): void {
  const count = (k: string) => t.ingresses.filter((i) => i.outcome.kind === k).length;
  for (const k of ['ok', 'pending', 'unsupported', 'conflict']) metrics.ingresses.set({ outcome: k }, count(k));
  metrics.ingresses.set({ outcome: 'ignored' }, t.ignoredIngresses);
  metrics.skippedEndpoints.set({ reason: 'unknown_node' }, t.endpoints.unknownNode);
  metrics.skippedEndpoints.set({ reason: 'missing_node' }, t.endpoints.missingNode);
  metrics.invalidObjects.set(t.invalidObjects);
  metrics.dataPath.reset();
  for (const d of t.dataPaths)
    metrics.dataPath.set({ service: d.service, sks_mode: d.sksMode, choice: d.choice, path: d.path }, d.readyPods);
  for (const d of t.dataPaths) {
    const p = prev?.dataPaths.find((x) => x.service === d.service);
    if (d.warning && p?.warning !== d.warning) log.warn({ service: d.service, revision: d.revision }, d.warning);
    if (p && (p.path !== d.path || p.sksMode !== d.sksMode))
      log.info(
        { service: d.service, sksMode: d.sksMode, choice: d.choice, path: d.path, readyPods: d.readyPods },
        'revision data path changed',
      );
  }
}
