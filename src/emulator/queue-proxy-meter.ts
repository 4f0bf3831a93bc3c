import type { QueueProxyStat } from '../probe/queue-proxy/stat.js';

/**
 * What an emulated pod's queue-proxy measures, with Knative's names and units, so the demo's node
 * agents scrape the production path. Time is passed in (ms).
 *
 * - 9090 `Stat` (knative/serving `pkg/autoscaler/metrics/stat.proto`): time-weighted concurrency
 *   (queued requests included) and requests per second over the last full 1 s window, uptime.
 * - 9091 OpenCensus-era text (knative/serving `pkg/queue/request_metric.go` before the OpenTelemetry
 *   move): `revision_request_latencies` (ms, arrival to response, queue wait included),
 *   `revision_app_request_latencies` (ms, the user container only), the two counts and
 *   `revision_queue_depth`, with the revision and pod labels.
 */

/** OpenCensus bucket bounds of the queue-proxy's latency views, ms. */
const LATENCY_BOUNDS_MS = [
  5, 10, 20, 40, 60, 80, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000, 2000, 5000, 10000, 20000, 50000, 100000,
];

class MsHistogram {
  readonly buckets = new Array<number>(LATENCY_BOUNDS_MS.length).fill(0);
  count = 0;
  sumMs = 0;

  observe(ms: number): void {
    this.count++;
    this.sumMs += ms;
    for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) this.buckets[i]!++;
  }
}

export interface RevisionLabels {
  readonly namespace: string;
  readonly service: string;
  readonly revision: string;
  readonly pod: string;
}

export class QueueProxyMeter {
  private request = new MsHistogram();
  private app = new MsHistogram();
  private inPod = 0;
  private queued = 0;
  private startedMs: number;
  // Current 1 s window: integral of concurrency (request·ms) and arrivals.
  private windowStartMs: number;
  private windowArea = 0;
  private windowArrivals = 0;
  private lastChangeMs: number;
  private reported = { concurrency: 0, rps: 0 };

  constructor(
    readonly labels: RevisionLabels,
    nowMs: number,
    private readonly windowMs = 1000,
  ) {
    this.startedMs = nowMs;
    this.windowStartMs = nowMs;
    this.lastChangeMs = nowMs;
  }

  /** The pod (re)started: counters and uptime begin again, as a new queue-proxy process would. */
  restart(nowMs: number): void {
    this.request = new MsHistogram();
    this.app = new MsHistogram();
    this.startedMs = nowMs;
    this.windowStartMs = nowMs;
    this.lastChangeMs = nowMs;
    this.windowArea = 0;
    this.windowArrivals = 0;
    this.reported = { concurrency: 0, rps: 0 };
  }

  private advance(nowMs: number): void {
    while (nowMs >= this.windowStartMs + this.windowMs) {
      const end = this.windowStartMs + this.windowMs;
      this.windowArea += this.inPod * Math.max(0, end - this.lastChangeMs);
      this.reported = { concurrency: this.windowArea / this.windowMs, rps: (this.windowArrivals * 1000) / this.windowMs };
      this.windowStartMs = end;
      this.lastChangeMs = end;
      this.windowArea = 0;
      this.windowArrivals = 0;
      // Skip idle windows in one step.
      if (this.inPod === 0 && nowMs >= end + this.windowMs) {
        this.reported = { concurrency: 0, rps: 0 };
        this.windowStartMs = end + Math.floor((nowMs - end) / this.windowMs) * this.windowMs;
        this.lastChangeMs = this.windowStartMs;
      }
    }
    this.windowArea += this.inPod * Math.max(0, nowMs - this.lastChangeMs);
    this.lastChangeMs = nowMs;
  }

  arrived(nowMs: number): void {
    this.advance(nowMs);
    this.inPod++;
    this.queued++;
    this.windowArrivals++;
  }

  /** The user container took the request after `queuedMs` in the queue-proxy. */
  started(nowMs: number): void {
    this.advance(nowMs);
    this.queued = Math.max(0, this.queued - 1);
  }

  /** A response went out: `totalMs` since arrival, `appMs` in the user container. */
  finished(nowMs: number, totalMs: number, appMs: number): void {
    this.advance(nowMs);
    this.inPod = Math.max(0, this.inPod - 1);
    this.request.observe(totalMs);
    this.app.observe(appMs);
  }

  stat(nowMs: number): QueueProxyStat {
    this.advance(nowMs);
    return {
      podName: this.labels.pod,
      averageConcurrentRequests: this.reported.concurrency,
      averageProxiedConcurrentRequests: 0,
      requestCount: this.reported.rps,
      proxiedRequestCount: 0,
      processUptimeS: (nowMs - this.startedMs) / 1000,
      timestampS: Math.floor(nowMs / 1000),
    };
  }

  /** Requests in the queue-proxy now (serving and waiting), as `revision_queue_depth` counts them. */
  get queueDepth(): number {
    return this.inPod;
  }

  /** The 9091 page in the OpenCensus-era Prometheus text format. */
  text(): string {
    const l = this.labels;
    const base = `configuration_name="${l.service}",container_name="queue-proxy",namespace_name="${l.namespace}",pod_name="${l.pod}"`;
    const series = `${base},response_code="200",response_code_class="2xx",revision_name="${l.revision}",service_name="${l.service}"`;
    const lines: string[] = [];
    const histogram = (name: string, h: MsHistogram) => {
      lines.push(`# HELP ${name} The response time in millisecond`, `# TYPE ${name} histogram`);
      LATENCY_BOUNDS_MS.forEach((b, i) => lines.push(`${name}_bucket{${series},le="${b}"} ${h.buckets[i]}`));
      lines.push(
        `${name}_bucket{${series},le="+Inf"} ${h.count}`,
        `${name}_sum{${series}} ${h.sumMs}`,
        `${name}_count{${series}} ${h.count}`,
      );
    };
    histogram('revision_app_request_latencies', this.app);
    histogram('revision_request_latencies', this.request);
    lines.push(
      '# HELP revision_app_request_count The number of requests that are routed to user-container',
      '# TYPE revision_app_request_count counter',
    );
    lines.push(`revision_app_request_count{${series}} ${this.app.count}`);
    lines.push(
      '# HELP revision_request_count The number of requests that are routed to queue-proxy',
      '# TYPE revision_request_count counter',
    );
    lines.push(`revision_request_count{${series}} ${this.request.count}`);
    lines.push(
      '# HELP revision_queue_depth The current number of items in the serving and waiting queue, or not reported if unlimited concurrency.',
      '# TYPE revision_queue_depth gauge',
      `revision_queue_depth{${base},revision_name="${l.revision}",service_name="${l.service}"} ${this.inPod}`,
    );
    return lines.join('\n') + '\n';
  }
}
