/**
 * The I/O side of measurement sharing between replicas: keeps this replica's latest rows, writes
 * its ProximaMeasurement (create, else replace at the current resourceVersion) when the publish
 * policy allows, and applies the deterministic merge of every replica's object to the model.
 */
import type { CustomObjectsApi, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../log.js';
import type { ModelStore } from '../../model/store.js';
import type { KubernetesMetrics } from './metrics.js';
import {
  DEFAULT_PUBLISH_POLICY,
  MEASUREMENT_GROUP,
  MEASUREMENT_PLURAL,
  MEASUREMENT_VERSION,
  mergeReports,
  objectNameFor,
  reportFromKube,
  reportToKube,
  shouldPublish,
  type DemandRow,
  type MeasurementReport,
  type PublishPolicy,
  type RttRow,
} from './measurements.js';
import { compareStrings } from './objects.js';

export interface MeasurementOptions extends PublishPolicy {
  /** Rows older than this are neither published nor merged. */
  readonly maxAgeMs: number;
}

export interface MeasurementExchangeOptions {
  readonly store: ModelStore;
  readonly log: Logger;
  readonly metrics: KubernetesMetrics;
  readonly custom: CustomObjectsApi;
  readonly replicaId: string | undefined;
  readonly nodeName: string | undefined;
  readonly nowMs: () => number;
  readonly options: Partial<MeasurementOptions>;
}

const API = { group: MEASUREMENT_GROUP, version: MEASUREMENT_VERSION, plural: MEASUREMENT_PLURAL } as const;

function apiCode(err: unknown): number | undefined {
  const c = (err as { code?: unknown })?.code;
  return typeof c === 'number' ? c : undefined;
}

export class MeasurementExchange {
  readonly collectionPath = `/apis/${MEASUREMENT_GROUP}/${MEASUREMENT_VERSION}/${MEASUREMENT_PLURAL}`;
  private readonly o: MeasurementExchangeOptions;
  private readonly policy: MeasurementOptions;
  private readonly rtt = new Map<string, RttRow>();
  private readonly demand = new Map<string, DemandRow>();
  private lastPublished: { report: MeasurementReport; atMs: number } | undefined;
  private writing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private lastAppliedJson = '';
  private demandServices = new Set<string>();

  constructor(o: MeasurementExchangeOptions) {
    this.o = o;
    this.policy = { ...DEFAULT_PUBLISH_POLICY, maxAgeMs: 60_000, ...o.options };
  }

  list(): Promise<KubernetesListObject<KubernetesObject>> {
    return this.o.custom.listClusterCustomObject({ ...API });
  }

  start(): void {
    if (this.o.replicaId === undefined || this.timer) return;
    this.timer = setInterval(() => void this.maybePublish(false), Math.max(250, Math.floor(this.policy.maxIntervalMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  idle(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  record(m: { readonly rtt?: readonly RttRow[]; readonly demand?: readonly DemandRow[] }): void {
    for (const r of m.rtt ?? []) this.rtt.set(`${r.from}\u0000${r.to}`, r);
    for (const r of m.demand ?? []) this.demand.set(`${r.service}\u0000${r.gateway}`, r);
    if (this.o.replicaId !== undefined) void this.maybePublish(false);
  }

  /** This replica's current report: fresh rows only, sorted. */
  ownReport(): MeasurementReport {
    const now = this.o.nowMs();
    for (const [k, r] of this.rtt) if (now - r.atMs > this.policy.maxAgeMs) this.rtt.delete(k);
    for (const [k, r] of this.demand) if (now - r.atMs > this.policy.maxAgeMs) this.demand.delete(k);
    return {
      replicaId: this.o.replicaId ?? 'local',
      rtt: [...this.rtt.values()].sort((a, b) => compareStrings(a.from, b.from) || compareStrings(a.to, b.to)),
      demand: [...this.demand.values()].sort((a, b) => compareStrings(a.service, b.service) || compareStrings(a.gateway, b.gateway)),
    };
  }

  /** Publish if the policy allows (`force`: regardless of hysteresis). One write at a time. */
  maybePublish(force: boolean): Promise<void> {
    if (this.o.replicaId === undefined) return Promise.resolve();
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    const report = this.ownReport();
    const now = this.o.nowMs();
    if (!force && !shouldPublish(this.lastPublished, report, now, this.policy)) return Promise.resolve();
    this.writing = this.write(report, now).finally(() => {
      this.writing = undefined;
      if (this.again) {
        this.again = false;
        void this.maybePublish(false);
      }
    });
    return this.writing;
  }

  private async write(report: MeasurementReport, now: number): Promise<void> {
    const body = reportToKube(report, now);
    if (this.o.nodeName) (body['spec'] as Record<string, unknown>)['nodeName'] = this.o.nodeName;
    const name = objectNameFor(report.replicaId);
    try {
      let existing: KubernetesObject | undefined;
      try {
        existing = (await this.o.custom.getClusterCustomObject({ ...API, name })) as KubernetesObject;
      } catch (err) {
        if (apiCode(err) !== 404) throw err;
      }
      if (existing) {
        const metadata = { ...(body['metadata'] as object), resourceVersion: existing.metadata?.resourceVersion };
        await this.o.custom.replaceClusterCustomObject({ ...API, name, body: { ...body, metadata } });
      } else {
        await this.o.custom.createClusterCustomObject({ ...API, body });
      }
      this.lastPublished = { report, atMs: now };
      this.o.metrics.measurementWrites.inc({ outcome: 'ok' });
    } catch (err) {
      // A conflict or outage: the next record()/timer tick retries with fresh state.
      this.o.metrics.measurementWrites.inc({ outcome: 'error' });
      this.o.log.warn({ err: String((err as Error)?.message ?? err), code: apiCode(err) }, 'publishing measurements failed');
    }
  }

  /**
   * Merge every replica's ProximaMeasurement (or, without a replica id, just this replica's own rows)
   * and apply the result to the model. RTT rows keep the publisher's timestamp, so freshness is the
   * same on every replica.
   */
  applyMerged(objects: readonly unknown[]): void {
    const now = this.o.nowMs();
    let invalid = 0;
    const reports: MeasurementReport[] = [];
    if (this.o.replicaId === undefined) reports.push(this.ownReport());
    for (const obj of objects) {
      const r = reportFromKube(obj);
      if (!r) {
        invalid++;
        continue;
      }
      invalid += r.invalidRows;
      reports.push(r.report);
    }
    this.o.metrics.invalidMeasurementRows.set(invalid);
    const merged = mergeReports(reports, now, this.policy.maxAgeMs);
    const json = JSON.stringify([merged.rtt, [...merged.demand].map(([s, m]) => [s, [...m]])]);
    if (json === this.lastAppliedJson) return;
    this.lastAppliedJson = json;
    const groups = new Map<string, RttRow[]>();
    for (const r of merged.rtt) {
      const k = `${r.from}\u0000${r.atMs}`;
      const g = groups.get(k) ?? [];
      g.push(r);
      groups.set(k, g);
    }
    for (const rows of groups.values()) this.o.store.setMeasuredRtt(rows[0]!.from, rows, rows[0]!.atMs);
    for (const [service, byGateway] of merged.demand) this.o.store.setDemand(service, byGateway);
    for (const s of this.demandServices) if (!merged.demand.has(s)) this.o.store.setDemand(s, new Map());
    this.demandServices = new Set(merged.demand.keys());
  }
}
