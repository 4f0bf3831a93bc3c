import type { Registry } from 'prom-client';
import type { PodSignalRowMsg, ScrapeTargetMsg } from '../protocol.js';
import type { NodeServiceSignal } from './aggregate.js';
import { QueueProxyScraper, type ScrapeTarget } from './scraper.js';

export interface QueueProxyLoopOptions {
  /** Scrape round interval (`proxima probe` default 1000 ms: as often as Knative's autoscaler scrapes, knative/serving `pkg/autoscaler/metrics/collector.go`). */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Pods scraped at once. */
  readonly concurrency: number;
  /** The pods' latency window (default QUEUE_PROXY_WINDOW_MS, FaaSt's 10 s). */
  readonly windowMs?: number;
  /** Fixed targets (the demo's emulator knows its pods); when set, targets from the control plane are ignored. */
  readonly targets?: readonly ScrapeTarget[];
  readonly registry?: Registry;
  readonly nowMs?: () => number;
}

/** The wire row for one aggregate (0 = unknown for latencies). */
export function podSignalRow(s: NodeServiceSignal, measuredAtMs: number): PodSignalRowMsg {
  return {
    service: s.service,
    pods: s.pods,
    pods_failed: s.podsFailed,
    request_rps: s.requestRps,
    concurrency: s.concurrency,
    request_latency_ms: s.requestLatencyMs ?? 0,
    app_latency_ms: s.appLatencyMs ?? 0,
    queue_depth: s.queueDepth,
    window_request_latency_ms: s.windowRequestLatencyMs ?? 0,
    latency_source: s.latencySource === 'none' ? '' : s.latencySource,
    measured_at_unix_ms: measuredAtMs,
    window_request_rps: s.windowRequestRps ?? 0,
  };
}

/** Targets from the control plane's message, with obviously bad entries dropped and the count bounded. */
export function targetsFromMsg(list: readonly ScrapeTargetMsg[] | undefined, max = 4096): ScrapeTarget[] {
  const out: ScrapeTarget[] = [];
  for (const t of list ?? []) {
    if (out.length >= max) break;
    const port = (p: number | undefined) => (Number.isInteger(p) && p! > 0 && p! < 65536 ? p! : 0);
    if (!t.service || !t.pod || !t.host) continue;
    const autometricPort = port(t.autometric_port);
    const usermetricPort = port(t.usermetric_port);
    if (autometricPort === 0 && usermetricPort === 0) continue;
    out.push({ service: t.service, pod: t.pod, host: t.host, autometricPort, usermetricPort });
  }
  return out;
}

/**
 * The agent's queue-proxy job: every interval, one scrape round of the pods on this node, then a
 * callback with one row per revision. Rounds never overlap; a slow round delays the next one.
 */
export class QueueProxyLoop {
  private readonly scraper: QueueProxyScraper;
  private readonly nowMs: () => number;
  private targets: readonly ScrapeTarget[];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly opts: QueueProxyLoopOptions,
    private readonly onRows: (rows: PodSignalRowMsg[]) => void,
  ) {
    if (!(opts.intervalMs > 0 && opts.timeoutMs > 0 && opts.timeoutMs <= opts.intervalMs))
      throw new RangeError('queue-proxy scraping needs 0 < timeoutMs <= intervalMs');
    this.nowMs = opts.nowMs ?? Date.now;
    this.targets = opts.targets ?? [];
    this.scraper = new QueueProxyScraper({
      timeoutMs: opts.timeoutMs,
      concurrency: opts.concurrency,
      nowMs: this.nowMs,
      ...(opts.windowMs !== undefined ? { windowMs: opts.windowMs } : {}),
      ...(opts.registry ? { registry: opts.registry } : {}),
    });
  }

  get targetCount(): number {
    return this.targets.length;
  }

  /** Targets from the control plane (ignored when the loop has fixed ones). */
  setTargets(list: readonly ScrapeTarget[]): void {
    if (this.opts.targets) return;
    this.targets = list;
  }

  start(): void {
    this.running = true;
    this.schedule(this.opts.intervalMs);
  }

  async close(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    this.scraper.close();
  }

  /** One round now (exposed for tests). */
  async round(): Promise<PodSignalRowMsg[]> {
    const signals = await this.scraper.round(this.targets);
    const at = this.nowMs();
    const rows = signals.map((s) => podSignalRow(s, at));
    if (rows.length > 0) this.onRows(rows);
    return rows;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      const started = performance.now();
      this.inFlight = this.round()
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          this.inFlight = undefined;
          this.schedule(Math.max(0, this.opts.intervalMs - (performance.now() - started)));
        });
    }, delayMs);
    this.timer.unref();
  }
}
