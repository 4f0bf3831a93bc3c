import type { QueueProxyStat } from './stat.js';
import type { UserMetricsTotals } from './usermetrics.js';

/**
 * Per-pod signals between scrapes (pure; time passed in). The user-metrics port gives cumulative
 * counters, so everything is a difference between two scrapes of the same pod:
 *
 * - mean latency over the interval = Δsum / Δcount, with ("request", queue wait included) and
 *   without ("app") the queue-proxy's queue;
 * - FaaSt's input, `rate(revision_request_latencies_sum[10s]) / rate(…_count[10s])`, is the same
 *   ratio over the deltas of the last `windowMs`;
 * - a counter that went down, or a process uptime that did (9090), is a restart: the new value is
 *   the delta since the restart (Prometheus' convention), never a negative rate;
 * - a Δcount with a Δsum of exactly 0 is Knative's sub-second-as-0 s bug (1.19.0–1.19.8,
 *   1.20.0–1.20.1): the latency is unknown, not 0.
 *
 * The autoscaling stat (9090) is already a per-second average: concurrency (queued requests
 * included) and rate are used as they are, and by Little's law concurrency ÷ rate is the time a
 * request spends in the pod, a latency without any histogram.
 */

export interface PodScrape {
  readonly stat?: QueueProxyStat;
  readonly totals?: UserMetricsTotals;
}

export interface LatencyDelta {
  readonly count: number;
  readonly sumMs: number;
}

export interface PodSignal {
  readonly pod: string;
  /** Requests/s over the interval (9091 counters), else the stat's 1 s rate (9090). */
  readonly requestRps?: number;
  /** Time-averaged requests in the pod (9090), else Little's law on 9091 (rate × latency). */
  readonly concurrency?: number;
  /** Outer-handler requests completed in the interval, and their latency sum (queue wait included). */
  readonly request?: LatencyDelta;
  /** User-container requests completed in the interval, and their latency sum. */
  readonly app?: LatencyDelta;
  readonly queueDepth?: number;
  /** Request latency over the last `windowMs` (FaaSt's input for this pod, 0 when none completed in it), ms. */
  readonly windowRequestLatencyMs?: number;
  /** Outer-handler requests and latency sum over the last `windowMs`. */
  readonly windowRequest?: LatencyDelta;
  /** Requests/s over the same window (the rate that latency was seen at). */
  readonly windowRequestRps?: number;
  /** User-container requests and latency sum over the last `windowMs` (a steadier service time). */
  readonly windowApp?: LatencyDelta;
  /** Time in system by Little's law on the 9090 averages, ms. */
  readonly littleMs?: number;
  /** The pod restarted since the previous scrape (a counter or the uptime went down). */
  readonly reset: boolean;
}

interface WindowDelta {
  /** The interval this delta covers: (fromMs, atMs]. */
  readonly fromMs: number;
  readonly atMs: number;
  readonly count: number;
  readonly sumMs: number;
  readonly appCount: number;
  readonly appSumMs: number;
}

interface PodHistory {
  atMs: number;
  totals?: UserMetricsTotals;
  uptimeS?: number;
  window: WindowDelta[];
}

/** The window of the pods' latency signals: FaaSt's `[10s]` range (bonavadeur/miporin `pkg/scraper/kodomo.go`). */
export const QUEUE_PROXY_WINDOW_MS = 10_000;

export interface PodTrackerOptions {
  /** FaaSt's window (default 10 s). */
  readonly windowMs?: number;
}

function delta(prev: { count: number; sumMs: number } | undefined, cur: { count: number; sumMs: number } | undefined, reset: boolean) {
  if (!cur) return undefined;
  if (!prev || reset || cur.count < prev.count || cur.sumMs < prev.sumMs) return { count: cur.count, sumMs: cur.sumMs, restarted: true };
  return { count: cur.count - prev.count, sumMs: cur.sumMs - prev.sumMs, restarted: false };
}

/** Mean latency of a delta, or undefined when nothing completed or the sum is the 0 s bug. */
export function meanMs(d: LatencyDelta | undefined): number | undefined {
  if (!d || !(d.count > 0) || !(d.sumMs > 0)) return undefined;
  return d.sumMs / d.count;
}

export class PodTracker {
  private readonly pods = new Map<string, PodHistory>();
  private readonly windowMs: number;

  constructor(opts: PodTrackerOptions = {}) {
    this.windowMs = opts.windowMs ?? QUEUE_PROXY_WINDOW_MS;
  }

  get size(): number {
    return this.pods.size;
  }

  /** Forget pods that are no longer scrape targets. */
  retain(pods: ReadonlySet<string>): void {
    for (const p of [...this.pods.keys()]) if (!pods.has(p)) this.pods.delete(p);
  }

  /** One successful scrape of `pod` at `nowMs`. The first scrape of a pod only sets its baseline. */
  observe(pod: string, scrape: PodScrape, nowMs: number): PodSignal {
    const h = this.pods.get(pod);
    const uptimeS = scrape.stat?.processUptimeS;
    const uptimeReset = h?.uptimeS !== undefined && uptimeS !== undefined && uptimeS < h.uptimeS;
    const out: { -readonly [K in keyof PodSignal]: PodSignal[K] } = { pod, reset: false };
    if (scrape.stat) {
      out.requestRps = scrape.stat.requestCount;
      out.concurrency = scrape.stat.averageConcurrentRequests;
      if (scrape.stat.requestCount > 0) out.littleMs = (scrape.stat.averageConcurrentRequests / scrape.stat.requestCount) * 1000;
    }
    const t = scrape.totals;
    if (t?.queueDepth !== undefined) out.queueDepth = t.queueDepth;
    const next: PodHistory = { atMs: nowMs, window: h?.window ?? [] };
    if (uptimeS !== undefined) next.uptimeS = uptimeS;
    else if (h?.uptimeS !== undefined) next.uptimeS = h.uptimeS;
    if (t) next.totals = t;
    else if (h?.totals) next.totals = h.totals;
    const hadBaseline = h?.totals !== undefined && t !== undefined && h.totals.era === t.era;
    if (hadBaseline && nowMs > h.atMs) {
      const req = delta(h.totals!.request, t.request, uptimeReset);
      const app = delta(h.totals!.app, t.app, uptimeReset);
      out.reset = uptimeReset || Boolean(req?.restarted) || Boolean(app?.restarted && h.totals!.app);
      if (req) out.request = { count: req.count, sumMs: req.sumMs };
      if (app) out.app = { count: app.count, sumMs: app.sumMs };
      const counted = req ?? app;
      if (counted) {
        out.requestRps = (counted.count * 1000) / (nowMs - h.atMs);
        if (!scrape.stat) {
          const latency = meanMs(req) ?? meanMs(app);
          if (latency !== undefined) out.concurrency = (out.requestRps * latency) / 1000;
        }
      }
      if (req || app)
        next.window = [
          ...next.window,
          {
            fromMs: h.atMs,
            atMs: nowMs,
            count: req?.count ?? 0,
            sumMs: req?.sumMs ?? 0,
            appCount: app?.count ?? 0,
            appSumMs: app?.sumMs ?? 0,
          },
        ];
    } else {
      out.reset = uptimeReset;
    }
    next.window = next.window.filter((w) => w.atMs > nowMs - this.windowMs);
    let count = 0;
    let sumMs = 0;
    let appCount = 0;
    let appSumMs = 0;
    for (const w of next.window) {
      count += w.count;
      sumMs += w.sumMs;
      appCount += w.appCount;
      appSumMs += w.appSumMs;
    }
    const windowMean = meanMs({ count, sumMs });
    // FaaSt's P_j reads what its PromQL reads: Δsum / Δcount, with 0/0 (no request completed in the
    // window) as 0 (miporin's libs.String2RoundedInt turns NaN into 0); a pod seen once has no rate yet.
    if (count > 0) out.windowRequestLatencyMs = sumMs / count;
    else if (hadBaseline && t?.request !== undefined) out.windowRequestLatencyMs = 0;
    if (windowMean !== undefined) {
      out.windowRequest = { count, sumMs };
      const spanMs = nowMs - Math.min(...next.window.map((w) => w.fromMs));
      if (spanMs > 0) out.windowRequestRps = (count * 1000) / spanMs;
    }
    if (meanMs({ count: appCount, sumMs: appSumMs }) !== undefined) out.windowApp = { count: appCount, sumMs: appSumMs };
    this.pods.set(pod, next);
    return out;
  }
}
