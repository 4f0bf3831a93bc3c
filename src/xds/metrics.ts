import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TypeUrl } from './resources/types.js';

/** Short label for a type URL: cds, eds, lds, rds (or "other"). */
export function typeLabel(typeUrl: string): string {
  switch (typeUrl) {
    case TypeUrl.Cluster:
      return 'cds';
    case TypeUrl.ClusterLoadAssignment:
      return 'eds';
    case TypeUrl.Listener:
      return 'lds';
    case TypeUrl.RouteConfiguration:
      return 'rds';
    case TypeUrl.Secret:
      return 'sds';
    default:
      return 'other';
  }
}

export type MalformedReason =
  | 'unknown_type_url'
  | 'type_url_mismatch'
  | 'stale_nonce'
  | 'unknown_nonce'
  | 'missing_node'
  | 'bad_request'
  | 'too_many_names'
  | 'name_too_long'
  | 'identity_refused';

export interface XdsMetrics {
  /** Open streams by API (ads, cds, eds, lds, rds) and flavor (sotw, delta). */
  readonly streams: Gauge<'api' | 'flavor'>;
  readonly responses: Counter<'type' | 'flavor'>;
  readonly responseBytes: Counter<'type'>;
  readonly acks: Counter<'type'>;
  readonly nacks: Counter<'type'>;
  /** Change (model or assignment) → response written to a stream, seconds. */
  readonly pushLatency: Histogram<'type'>;
  /** Resources held by the cache per type (EDS: summed over gateway keys). */
  readonly resources: Gauge<'type'>;
  readonly unknownNodeStreams: Gauge;
  readonly unknownNodeStreamsTotal: Counter;
  readonly malformed: Counter<'reason'>;
  readonly consistencyErrors: Counter;
  readonly buildErrors: Counter<'type'>;
  /** Time to rebuild and publish resources after a change, seconds. */
  readonly rebuildSeconds: Histogram<'kind'>;
}

export function createXdsMetrics(registry: Registry): XdsMetrics {
  const registers = [registry];
  return {
    streams: new Gauge({
      name: 'proxima_xds_streams',
      help: 'Open xDS streams by API and flavor.',
      labelNames: ['api', 'flavor'],
      registers,
    }),
    responses: new Counter({
      name: 'proxima_xds_responses_total',
      help: 'xDS discovery responses sent, by resource type and flavor.',
      labelNames: ['type', 'flavor'],
      registers,
    }),
    responseBytes: new Counter({
      name: 'proxima_xds_response_bytes_total',
      help: 'Bytes of xDS discovery responses sent, by resource type.',
      labelNames: ['type'],
      registers,
    }),
    acks: new Counter({
      name: 'proxima_xds_acks_total',
      help: 'xDS responses acknowledged by clients, by resource type.',
      labelNames: ['type'],
      registers,
    }),
    nacks: new Counter({
      name: 'proxima_xds_nacks_total',
      help: 'xDS responses rejected by clients (NACK), by resource type.',
      labelNames: ['type'],
      registers,
    }),
    pushLatency: new Histogram({
      name: 'proxima_xds_push_latency_seconds',
      help: 'Time from a model or assignment change to the xDS response being written to a stream.',
      labelNames: ['type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
      registers,
    }),
    resources: new Gauge({
      name: 'proxima_xds_resources',
      help: 'Resources in the xDS cache by type (EDS summed over gateway nodes).',
      labelNames: ['type'],
      registers,
    }),
    unknownNodeStreams: new Gauge({
      name: 'proxima_xds_unknown_node_streams',
      help: 'Open xDS streams whose gateway node is not in the model (served the even assignment).',
      registers,
    }),
    unknownNodeStreamsTotal: new Counter({
      name: 'proxima_xds_unknown_node_streams_total',
      help: 'xDS streams opened by gateways on nodes the model does not know.',
      registers,
    }),
    malformed: new Counter({
      name: 'proxima_xds_malformed_requests_total',
      help: 'xDS requests ignored or rejected as malformed, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    consistencyErrors: new Counter({
      name: 'proxima_xds_consistency_errors_total',
      help: 'Consistency errors found in xDS snapshots before publishing.',
      registers,
    }),
    buildErrors: new Counter({
      name: 'proxima_xds_build_errors_total',
      help: 'xDS resources that could not be built or encoded (skipped, last good kept), by type.',
      labelNames: ['type'],
      registers,
    }),
    rebuildSeconds: new Histogram({
      name: 'proxima_xds_rebuild_seconds',
      help: 'Time to rebuild, encode and publish xDS resources after a change, by kind (shared, endpoints, node).',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
  };
}

/** One stream's per-type metric children (label hashing per write adds up at 1,000 streams). */
export interface StreamTypeMetrics {
  readonly responses: { inc(n?: number): void };
  readonly bytes: { inc(n?: number): void };
  readonly latency: { observe(v: number): void };
}

const streamTypeMetricsCache = new WeakMap<XdsMetrics, Map<string, StreamTypeMetrics>>();

/** The labelled children for responses of `typeUrl` on a `flavor` stream, resolved once per metrics set. */
export function streamTypeMetrics(metrics: XdsMetrics, flavor: string, typeUrl: string): StreamTypeMetrics {
  let perMetrics = streamTypeMetricsCache.get(metrics);
  if (!perMetrics) streamTypeMetricsCache.set(metrics, (perMetrics = new Map()));
  const key = `${flavor}\u0000${typeUrl}`;
  let m = perMetrics.get(key);
  if (!m) {
    const type = typeLabel(typeUrl);
    m = {
      responses: metrics.responses.labels({ type, flavor }),
      bytes: metrics.responseBytes.labels({ type }),
      latency: metrics.pushLatency.labels({ type }),
    };
    perMetrics.set(key, m);
  }
  return m;
}
