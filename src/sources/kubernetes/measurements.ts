/**
 * What replicas share through `ProximaMeasurement` objects (proxima.dev/v1alpha1, cluster-scoped,
 * one per replica): the probe RTT rows and LRS demand each replica learned from the agents and
 * gateways connected to it. Every replica merges all reports the same way — per row the newest
 * `atMs`, ties to the smallest replica id — so all replicas feed identical inputs to the policy.
 * Publishing has hysteresis: only when a value moved by more than `relativeChange`, a row appeared
 * or vanished, or `maxIntervalMs` passed; never more often than `minIntervalMs`. Pure.
 */
import { asArray, asString, compareStrings, isRecord, metaOf } from './objects.js';

export const MEASUREMENT_GROUP = 'proxima.dev';
export const MEASUREMENT_VERSION = 'v1alpha1';
export const MEASUREMENT_PLURAL = 'proximameasurements';
export const MEASUREMENT_KIND = 'ProximaMeasurement';

export interface RttRow {
  readonly from: string;
  readonly to: string;
  readonly rttMs: number;
  readonly reachable: boolean;
  readonly atMs: number;
}

export interface DemandRow {
  readonly gateway: string;
  readonly service: string;
  readonly rps: number;
  readonly atMs: number;
}

export interface MeasurementReport {
  readonly replicaId: string;
  readonly rtt: readonly RttRow[];
  readonly demand: readonly DemandRow[];
}

export interface MergedMeasurements {
  /** Rows sorted by (from, to). */
  readonly rtt: readonly RttRow[];
  /** service → gateway → rps, services and gateways sorted. */
  readonly demand: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** A DNS-1123 object name for a replica id (pod names already are). */
export function objectNameFor(replicaId: string): string {
  const n = replicaId
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return (n || 'replica').slice(0, 253);
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Parse a ProximaMeasurement; malformed rows are dropped and counted in `invalidRows`. */
export function reportFromKube(o: unknown): { report: MeasurementReport; invalidRows: number } | undefined {
  const meta = metaOf(o);
  if (!meta || !isRecord(o) || !isRecord(o['spec'])) return undefined;
  const spec = o['spec'];
  let invalidRows = 0;
  const rtt: RttRow[] = [];
  for (const r of asArray(spec['rtt'])) {
    if (isRecord(r) && asString(r['from']) && asString(r['to']) && finite(r['rttMs']) && r['rttMs'] >= 0 && finite(r['atMs'])) {
      rtt.push({
        from: r['from'] as string,
        to: r['to'] as string,
        rttMs: r['rttMs'],
        reachable: r['reachable'] !== false,
        atMs: r['atMs'],
      });
    } else invalidRows++;
  }
  const demand: DemandRow[] = [];
  for (const r of asArray(spec['demand'])) {
    if (isRecord(r) && asString(r['gateway']) && asString(r['service']) && finite(r['rps']) && r['rps'] >= 0 && finite(r['atMs'])) {
      demand.push({ gateway: r['gateway'] as string, service: r['service'] as string, rps: r['rps'], atMs: r['atMs'] });
    } else invalidRows++;
  }
  return { report: { replicaId: asString(spec['replicaId']) || meta.name, rtt, demand }, invalidRows };
}

/** The object a replica writes (without resourceVersion). */
export function reportToKube(report: MeasurementReport, publishedAtMs: number): Record<string, unknown> {
  return {
    apiVersion: `${MEASUREMENT_GROUP}/${MEASUREMENT_VERSION}`,
    kind: MEASUREMENT_KIND,
    metadata: { name: objectNameFor(report.replicaId), labels: { 'app.kubernetes.io/managed-by': 'proxima' } },
    spec: {
      replicaId: report.replicaId,
      publishedAtMs,
      rtt: report.rtt.map((r) => ({ ...r })),
      demand: report.demand.map((r) => ({ ...r })),
    },
  };
}

function newer<T extends { atMs: number }>(a: { row: T; replica: string }, b: { row: T; replica: string }): boolean {
  return a.row.atMs > b.row.atMs || (a.row.atMs === b.row.atMs && compareStrings(a.replica, b.replica) < 0);
}

/**
 * Merge every replica's report. Rows older than `maxAgeMs` at `nowMs` are dropped. The result does
 * not depend on the order of `reports`.
 */
export function mergeReports(reports: readonly MeasurementReport[], nowMs: number, maxAgeMs: number): MergedMeasurements {
  const rtt = new Map<string, { row: RttRow; replica: string }>();
  const demand = new Map<string, { row: DemandRow; replica: string }>();
  for (const rep of reports) {
    for (const row of rep.rtt) {
      if (nowMs - row.atMs > maxAgeMs) continue;
      const k = `${row.from}\u0000${row.to}`;
      const cand = { row, replica: rep.replicaId };
      const cur = rtt.get(k);
      if (!cur || newer(cand, cur)) rtt.set(k, cand);
    }
    for (const row of rep.demand) {
      if (nowMs - row.atMs > maxAgeMs) continue;
      const k = `${row.service}\u0000${row.gateway}`;
      const cand = { row, replica: rep.replicaId };
      const cur = demand.get(k);
      if (!cur || newer(cand, cur)) demand.set(k, cand);
    }
  }
  const rttRows = [...rtt.values()].map((x) => x.row).sort((a, b) => compareStrings(a.from, b.from) || compareStrings(a.to, b.to));
  const byService = new Map<string, Map<string, number>>();
  const demandRows = [...demand.values()]
    .map((x) => x.row)
    .sort((a, b) => compareStrings(a.service, b.service) || compareStrings(a.gateway, b.gateway));
  for (const r of demandRows) {
    const m = byService.get(r.service) ?? new Map<string, number>();
    m.set(r.gateway, r.rps);
    byService.set(r.service, m);
  }
  return { rtt: rttRows, demand: byService };
}

export interface PublishPolicy {
  /** Publish when a value moved by more than this fraction (0.1 = 10 %). */
  readonly relativeChange: number;
  /** Values below this (ms or rps) count as moved only when the absolute change exceeds it. */
  readonly absoluteFloor: number;
  readonly minIntervalMs: number;
  /** Republish at least this often, so rows stay fresh for the other replicas. */
  readonly maxIntervalMs: number;
}

export const DEFAULT_PUBLISH_POLICY: PublishPolicy = Object.freeze({
  relativeChange: 0.1,
  absoluteFloor: 1,
  minIntervalMs: 1000,
  maxIntervalMs: 10_000,
});

function moved(a: number, b: number, p: PublishPolicy): boolean {
  const d = Math.abs(a - b);
  return d > p.absoluteFloor && d > p.relativeChange * Math.max(Math.abs(a), Math.abs(b));
}

/** Whether `next` differs enough from what was last published at `lastAtMs` to write it now. */
export function shouldPublish(
  last: { report: MeasurementReport; atMs: number } | undefined,
  next: MeasurementReport,
  nowMs: number,
  p: PublishPolicy,
): boolean {
  if (!last) return next.rtt.length + next.demand.length > 0;
  const since = nowMs - last.atMs;
  if (since < p.minIntervalMs) return false;
  if (since >= p.maxIntervalMs) return true;
  const lastRtt = new Map(last.report.rtt.map((r) => [`${r.from}\u0000${r.to}`, r] as const));
  const lastDemand = new Map(last.report.demand.map((r) => [`${r.service}\u0000${r.gateway}`, r] as const));
  if (lastRtt.size !== next.rtt.length || lastDemand.size !== next.demand.length) return true;
  for (const r of next.rtt) {
    const o = lastRtt.get(`${r.from}\u0000${r.to}`);
    if (!o || o.reachable !== r.reachable || moved(o.rttMs, r.rttMs, p)) return true;
  }
  for (const r of next.demand) {
    const o = lastDemand.get(`${r.service}\u0000${r.gateway}`);
    if (!o || moved(o.rps, r.rps, p)) return true;
  }
  return false;
}
