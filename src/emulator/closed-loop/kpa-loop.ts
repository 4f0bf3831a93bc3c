import type { EmulatedCluster } from '../cluster.js';
import { decodeStat, STAT_CONTENT_TYPE } from '../../probe/queue-proxy/stat.js';
import type { RevisionAutoscaler, TickResult } from '../../autoscaler/revision.js';
import type { RevisionPods } from './revision-pods.js';

/**
 * Knative's autoscaler for the emulated revision (I/O): every metric bucket it scrapes each pod's
 * queue-proxy Stat over HTTP (`GET /metrics`, `Accept: application/protobuf`, as knative
 * `pkg/autoscaler/metrics/stats_scraper.go`) and, with the activator, the activator's own
 * concurrency (which Knative's activator reports to the autoscaler); every tick the KPA decides and
 * the Deployment is scaled. Ticks are kept for the report.
 */
export interface KpaLoopOptions {
  readonly bucketMs: number;
  readonly tickMs: number;
  readonly clockMs: () => number;
  readonly withActivator: boolean;
  readonly progress: (m: string) => void;
}

export class KpaLoop {
  readonly ticks: TickResult[] = [];
  private scrapeTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private scraping = false;
  private lastWant: number | undefined;

  constructor(
    private readonly cluster: EmulatedCluster,
    private readonly pods: RevisionPods,
    private readonly autoscaler: RevisionAutoscaler,
    private readonly opts: KpaLoopOptions,
  ) {}

  start(): void {
    this.scrapeTimer = setInterval(() => void this.scrape(), this.opts.bucketMs);
    this.tickTimer = setInterval(() => this.tick(), this.opts.tickMs);
  }

  stop(): void {
    if (this.scrapeTimer) clearInterval(this.scrapeTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
  }

  private async scrape(): Promise<void> {
    if (this.scraping) return;
    this.scraping = true;
    try {
      const at = this.opts.clockMs();
      const timeoutMs = Math.max(100, Math.min(1000, this.opts.bucketMs * 3));
      const targets = this.cluster.pods.filter((p) => p.autometricPort !== undefined && !this.cluster.notReadyPods.has(p.name));
      const stats = await Promise.all(
        targets.map(async (p) => {
          try {
            const res = await fetch(`http://${p.address}:${p.autometricPort}/metrics`, {
              headers: { accept: STAT_CONTENT_TYPE },
              signal: AbortSignal.timeout(timeoutMs),
            });
            const body = new Uint8Array(await res.arrayBuffer());
            if (res.status !== 200 || body.length > 64 * 1024) return undefined;
            const d = decodeStat(body);
            return 'stat' in d ? { pod: p.name, stat: d.stat } : undefined;
          } catch {
            return undefined;
          }
        }),
      );
      let concurrency = 0;
      for (const s of stats) {
        if (!s) continue;
        concurrency += s.stat.averageConcurrentRequests - s.stat.averageProxiedConcurrentRequests;
        const rec = this.pods.records.find((r) => r.name === s.pod);
        if (rec && rec.firstServedAtMs === undefined && s.stat.requestCount > 0 && rec.createdAtMs > 0) rec.firstServedAtMs = at;
      }
      if (this.opts.withActivator) concurrency += (await this.cluster.activatorStats()).concurrency;
      this.autoscaler.record(at, { concurrency });
    } finally {
      this.scraping = false;
    }
  }

  private tick(): void {
    const now = this.opts.clockMs();
    const r = this.autoscaler.tick(now, this.pods.readyCount, this.pods.count);
    this.ticks.push(r);
    if (this.ticks.length > 5000) this.ticks.shift();
    if (r.valid && r.wantPods !== this.pods.count) {
      if (r.wantPods !== this.lastWant)
        this.opts.progress(
          `t=${(now / 1000).toFixed(1)} s KPA: ${this.pods.count} → ${r.wantPods} pods (stable ${r.stableConcurrency.toFixed(2)}, panic ${r.panicConcurrency.toFixed(2)}${r.panicking ? ', panicking' : ''}${r.reason ? `; ${r.reason}` : ''})`,
        );
      this.lastWant = r.wantPods;
      void this.pods.scaleTo(r.wantPods);
    }
  }
}
