import { request, Agent, type IncomingMessage } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { aggregatePods, type NodeServiceSignal } from './aggregate.js';
import { PodTracker, type PodScrape, type PodSignal } from './pod-tracker.js';
import { parsePromText } from './prom-text.js';
import { decodeStat, STAT_CONTENT_TYPE } from './stat.js';
import { userMetricsTotals } from './usermetrics.js';

/**
 * The I/O of queue-proxy scraping on one node: every round, GET both metric ports of every target
 * pod (bounded concurrency, a timeout per request, a size limit per body), feed the pure tracker and
 * return one aggregate per revision. Knative's own ports (knative/serving `pkg/networking/constants.go`):
 * 9090 `http-autometric`, 9091 `http-usermetric`.
 */

export const AUTOMETRIC_PORT = 9090;
export const USERMETRIC_PORT = 9091;

export interface ScrapeTarget {
  /** The revision's service (`namespace/name`). */
  readonly service: string;
  /** A stable id of the pod (its name, or `ip:port` of its endpoint). */
  readonly pod: string;
  readonly host: string;
  /** 0 = do not scrape this port. */
  readonly autometricPort: number;
  readonly usermetricPort: number;
}

export type ScrapeOutcome = 'ok' | 'timeout' | 'error' | 'http_error' | 'garbage' | 'too_large';

export interface ScraperOptions {
  /** Per request, both ports (default 1000 ms). */
  readonly timeoutMs?: number;
  /** Pods scraped at once (default 16). */
  readonly concurrency?: number;
  /** A body larger than this is dropped (default 1 MiB: a queue-proxy's 9091 page is a few kB). */
  readonly maxBodyBytes?: number;
  readonly registry?: Registry;
  readonly nowMs?: () => number;
  /** The pods' latency window (default QUEUE_PROXY_WINDOW_MS, FaaSt's 10 s). */
  readonly windowMs?: number;
}

export interface ScrapeRoundStats {
  readonly pods: number;
  readonly podsFailed: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly badLines: number;
}

function createMetrics(registry: Registry) {
  const registers = [registry];
  return {
    scrapes: new Counter({
      name: 'proxima_probe_queue_proxy_scrapes_total',
      help: 'Queue-proxy scrapes by port (9090 autometric, 9091 usermetric) and outcome (ok, timeout, error, http_error, garbage, too_large).',
      labelNames: ['port', 'outcome'],
      registers,
    }),
    badLines: new Counter({
      name: 'proxima_probe_queue_proxy_bad_lines_total',
      help: 'Lines of queue-proxy metric pages that were not valid Prometheus text (skipped).',
      registers,
    }),
    resets: new Counter({
      name: 'proxima_probe_queue_proxy_pod_restarts_total',
      help: 'Pods whose counters or uptime went down.',
      registers,
    }),
    bytes: new Counter({ name: 'proxima_probe_queue_proxy_bytes_total', help: 'Bytes read from queue-proxy metric ports.', registers }),
    pods: new Gauge({
      name: 'proxima_probe_queue_proxy_pods',
      help: 'Queue-proxy targets on this node, by whether the last scrape worked.',
      labelNames: ['state'],
      registers,
    }),
    roundSeconds: new Histogram({
      name: 'proxima_probe_queue_proxy_round_duration_seconds',
      help: 'Time to scrape every queue-proxy on this node once.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}

type Fetched = { outcome: 'ok'; body: Buffer; contentType: string } | { outcome: Exclude<ScrapeOutcome, 'ok' | 'garbage'> };

export class QueueProxyScraper {
  private readonly tracker: PodTracker;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 256 });
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly maxBodyBytes: number;
  private readonly nowMs: () => number;
  private readonly metrics: ReturnType<typeof createMetrics> | undefined;
  private last: ScrapeRoundStats = { pods: 0, podsFailed: 0, bytes: 0, durationMs: 0, badLines: 0 };

  constructor(opts: ScraperOptions = {}) {
    this.tracker = new PodTracker(opts.windowMs !== undefined ? { windowMs: opts.windowMs } : {});
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.concurrency = Math.max(1, opts.concurrency ?? 16);
    this.maxBodyBytes = opts.maxBodyBytes ?? 1 << 20;
    this.nowMs = opts.nowMs ?? Date.now;
    this.metrics = opts.registry ? createMetrics(opts.registry) : undefined;
  }

  /** What the last round read. */
  get lastRound(): ScrapeRoundStats {
    return this.last;
  }

  close(): void {
    this.agent.destroy();
  }

  /** Scrape every target once; one aggregate per service (services whose pods all failed included). */
  async round(targets: readonly ScrapeTarget[]): Promise<NodeServiceSignal[]> {
    const started = performance.now();
    this.tracker.retain(new Set(targets.map((t) => t.pod)));
    const signals = new Map<string, PodSignal[]>();
    const failed = new Map<string, number>();
    for (const t of targets) {
      signals.set(t.service, signals.get(t.service) ?? []);
      failed.set(t.service, failed.get(t.service) ?? 0);
    }
    let bytes = 0;
    let badLines = 0;
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const t = targets[next++]!;
        const r = await this.scrapePod(t);
        bytes += r.bytes;
        badLines += r.badLines;
        if (r.scrape) {
          const s = this.tracker.observe(t.pod, r.scrape, this.nowMs());
          if (s.reset) this.metrics?.resets.inc();
          signals.get(t.service)!.push(s);
        } else failed.set(t.service, failed.get(t.service)! + 1);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, targets.length) }, worker));
    const out = [...signals]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([service, list]) => aggregatePods(service, list, failed.get(service)!));
    const podsFailed = [...failed.values()].reduce((a, b) => a + b, 0);
    this.last = { pods: targets.length, podsFailed, bytes, durationMs: performance.now() - started, badLines };
    if (this.metrics) {
      this.metrics.bytes.inc(bytes);
      this.metrics.badLines.inc(badLines);
      this.metrics.pods.set({ state: 'ok' }, targets.length - podsFailed);
      this.metrics.pods.set({ state: 'failed' }, podsFailed);
      this.metrics.roundSeconds.observe(this.last.durationMs / 1000);
    }
    return out;
  }

  private async scrapePod(t: ScrapeTarget): Promise<{ scrape?: PodScrape; bytes: number; badLines: number }> {
    const [auto, user] = await Promise.all([
      t.autometricPort > 0 ? this.fetch(t.host, t.autometricPort, STAT_CONTENT_TYPE) : undefined,
      t.usermetricPort > 0 ? this.fetch(t.host, t.usermetricPort, 'text/plain;version=0.0.4') : undefined,
    ]);
    const scrape: { -readonly [K in keyof PodScrape]: PodScrape[K] } = {};
    let bytes = 0;
    let badLines = 0;
    if (auto) {
      let outcome: ScrapeOutcome = auto.outcome;
      if (auto.outcome === 'ok') {
        bytes += auto.body.length;
        const d = decodeStat(auto.body);
        if ('stat' in d && auto.contentType.startsWith(STAT_CONTENT_TYPE)) scrape.stat = d.stat;
        else outcome = 'garbage';
      }
      this.metrics?.scrapes.inc({ port: 'autometric', outcome });
    }
    if (user) {
      let outcome: ScrapeOutcome = user.outcome;
      if (user.outcome === 'ok') {
        bytes += user.body.length;
        const parsed = parsePromText(user.body.toString('utf8'));
        badLines += parsed.badLines;
        const totals = userMetricsTotals(parsed.samples);
        if (totals) scrape.totals = totals;
        else outcome = 'garbage';
      }
      this.metrics?.scrapes.inc({ port: 'usermetric', outcome });
    }
    return { ...(scrape.stat || scrape.totals ? { scrape } : {}), bytes, badLines };
  }

  private fetch(host: string, port: number, accept: string): Promise<Fetched> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: Fetched) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = request(
        { host, port, path: '/metrics', method: 'GET', agent: this.agent, headers: { accept } },
        (res: IncomingMessage) => {
          if ((res.statusCode ?? 0) !== 200) {
            res.resume();
            return finish({ outcome: 'http_error' });
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.maxBodyBytes) {
              req.destroy();
              return finish({ outcome: 'too_large' });
            }
            chunks.push(c);
          });
          res.on('end', () =>
            finish({ outcome: 'ok', body: Buffer.concat(chunks), contentType: String(res.headers['content-type'] ?? '') }),
          );
          res.on('error', () => finish({ outcome: 'error' }));
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        finish({ outcome: 'timeout' });
      }, this.timeoutMs);
      req.on('error', () => finish({ outcome: 'error' }));
      req.end();
    });
  }
}
