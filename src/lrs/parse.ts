/**
 * Validation of LRS `ClusterStats` (pure): raw proto-loader objects in, plain per-cluster load out,
 * or a reason the cluster's stats were rejected. A rejected cluster contributes nothing.
 */

export type LrsRejectReason =
  | 'no_node'
  | 'unknown_cluster'
  | 'zero_interval'
  | 'negative_count'
  | 'absurd_value'
  | 'unknown_locality'
  | 'too_many_localities'
  | 'name_too_long'
  | 'identity_refused';

/** What localities on nodes the model does not know are counted under: their names are not kept. */
export const UNKNOWN_LOCALITY = '(unknown)';

export interface LocalityLoad {
  /** Locality sub_zone = the node the upstream endpoints run on. */
  readonly node: string;
  readonly issued: number;
  readonly succeeded: number;
  readonly errors: number;
  /** Snapshot at report time, not a count over the interval. */
  readonly inProgress: number;
}

export interface ClusterLoad {
  /** The service (= cluster name, `namespace/name`). */
  readonly service: string;
  readonly intervalMs: number;
  readonly localities: readonly LocalityLoad[];
}

export interface LrsLimits {
  /** Any per-locality rate above this (requests/s) rejects the cluster's stats. */
  readonly maxRps: number;
  /** In-progress above this rejects the cluster's stats. */
  readonly maxInProgress: number;
  /** Report intervals above this are absurd (a client that never reset its counters). */
  readonly maxIntervalMs: number;
  /** More localities than this in one cluster's stats reject them. */
  readonly maxLocalities: number;
}

export const DEFAULT_LRS_LIMITS: LrsLimits = Object.freeze({
  maxRps: 1e7,
  maxInProgress: 1e7,
  maxIntervalMs: 3_600_000,
  maxLocalities: 1024,
});

/** Raw shapes as @grpc/proto-loader delivers them (keepCase, longs as strings, no defaults). */
export interface RawDuration {
  seconds?: string | number;
  nanos?: number;
}
export interface RawLocality {
  region?: string;
  zone?: string;
  sub_zone?: string;
}
export interface RawUpstreamLocalityStats {
  locality?: RawLocality | null;
  total_successful_requests?: string | number;
  total_requests_in_progress?: string | number;
  total_error_requests?: string | number;
  total_issued_requests?: string | number;
}
export interface RawClusterStats {
  cluster_name?: string;
  cluster_service_name?: string;
  upstream_locality_stats?: RawUpstreamLocalityStats[];
  total_dropped_requests?: string | number;
  load_report_interval?: RawDuration | null;
}
export interface RawNode {
  id?: string;
  cluster?: string;
  locality?: RawLocality | null;
}

export { gatewayNodeOf } from '../model/gateway-identity.js';

export function durationMs(d: RawDuration | null | undefined): number {
  if (!d) return 0;
  return Number(d.seconds ?? 0) * 1000 + Number(d.nanos ?? 0) / 1e6;
}

/** uint64 counts arrive as decimal strings; anything not a non-negative safe integer is NaN or negative. */
function count(v: string | number | undefined): number {
  if (v === undefined || v === '') return 0;
  return typeof v === 'number' ? v : Number(v);
}

export type ParsedCluster =
  { readonly ok: ClusterLoad; readonly unknownLocalities: number } | { readonly rejected: LrsRejectReason; readonly name: string };

/**
 * Parse one cluster's stats. The service is `cluster_service_name` when the model knows it, else
 * `cluster_name`. Localities on unknown nodes still count towards demand (what the gateway sent) but
 * not towards service time; they are reported in `unknownLocalities`.
 */
export function parseClusterStats(
  cs: RawClusterStats,
  knownService: (s: string) => boolean,
  knownNode: (n: string) => boolean,
  limits: LrsLimits = DEFAULT_LRS_LIMITS,
): ParsedCluster {
  const name = cs.cluster_service_name && knownService(cs.cluster_service_name) ? cs.cluster_service_name : (cs.cluster_name ?? '');
  if (!knownService(name)) return { rejected: 'unknown_cluster', name };
  const intervalMs = durationMs(cs.load_report_interval);
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) return { rejected: 'zero_interval', name };
  if (intervalMs > limits.maxIntervalMs) return { rejected: 'absurd_value', name };
  if ((cs.upstream_locality_stats?.length ?? 0) > limits.maxLocalities) return { rejected: 'too_many_localities', name };
  const localities: LocalityLoad[] = [];
  let unknownLocalities = 0;
  for (const u of cs.upstream_locality_stats ?? []) {
    const l = {
      node: u.locality?.sub_zone ?? '',
      issued: count(u.total_issued_requests),
      succeeded: count(u.total_successful_requests),
      errors: count(u.total_error_requests),
      inProgress: count(u.total_requests_in_progress),
    };
    for (const v of [l.issued, l.succeeded, l.errors, l.inProgress]) {
      // A negative number written into a uint64 field arrives as 2^64 − |n|: treat the top half as negative.
      if (!Number.isFinite(v) || v < 0 || v >= 2 ** 63 || !Number.isInteger(v)) return { rejected: 'negative_count', name };
    }
    const seconds = intervalMs / 1000;
    if (l.issued / seconds > limits.maxRps || (l.succeeded + l.errors) / seconds > limits.maxRps || l.inProgress > limits.maxInProgress) {
      return { rejected: 'absurd_value', name };
    }
    if (!knownNode(l.node)) {
      unknownLocalities++;
      localities.push({ ...l, node: UNKNOWN_LOCALITY });
    } else localities.push(l);
  }
  return { ok: { service: name, intervalMs, localities }, unknownLocalities };
}
