import * as grpc from '@grpc/grpc-js';
import type { GrpcServiceHost } from '../net/grpc-h2-services.js';
import type { MeasurementSink } from '../model/sink.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { ModelStore } from '../model/store.js';
import { envoyProtos, grpcLookup } from '../protos/envoy.js';
import { DemandModel } from './demand.js';
import { defaultDemandWindowMs } from './rate-estimate.js';
import {
  DEFAULT_LRS_LIMITS,
  gatewayNodeOf,
  parseClusterStats,
  UNKNOWN_LOCALITY,
  type ClusterLoad,
  type LrsLimits,
  type LrsRejectReason,
  type RawClusterStats,
  type RawNode,
} from './parse.js';
import { onStreamDone } from '../util/grpc-stream.js';
import type { NodeAuthorizer } from '../tls/authorizer.js';

export function createLrsMetrics(registry: Registry) {
  const registers = [registry];
  return {
    streams: new Gauge({ name: 'proxima_lrs_streams', help: 'Open LRS (StreamLoadStats) streams.', registers }),
    reports: new Counter({ name: 'proxima_lrs_reports_total', help: 'LRS load reports received.', registers }),
    clusters: new Counter({
      name: 'proxima_lrs_cluster_stats_total',
      help: 'Per-cluster load stats, by outcome (accepted, rejected).',
      labelNames: ['outcome'],
      registers,
    }),
    rejected: new Counter({
      name: 'proxima_lrs_rejected_total',
      help: 'LRS streams or cluster stats rejected, by reason (no_node, unknown_cluster, zero_interval, negative_count, absurd_value, unknown_locality, too_many_localities, name_too_long, identity_refused).',
      labelNames: ['reason'],
      registers,
    }),
    flowRequests: new Counter({
      name: 'proxima_lrs_requests_total',
      help: 'Requests completed (succeeded or failed) as gateways report them over LRS, by gateway node, serving node and service: rate() gives the gateway → node traffic matrix.',
      labelNames: ['gateway', 'node', 'service'],
      registers,
    }),
    seriesRefused: new Counter({
      name: 'proxima_lrs_series_refused_total',
      help: 'Completed requests not counted in proxima_lrs_requests_total because it already has --max-metric-series series.',
      registers,
    }),
    demandUpdates: new Counter({
      name: 'proxima_lrs_model_updates_total',
      help: 'Demand / service-time updates written to the model.',
      registers,
    }),
  };
}

export type LrsMetrics = ReturnType<typeof createLrsMetrics>;

export interface LoadReportingServerOptions {
  readonly store: ModelStore;
  /** Where learned demand goes (default: the store). Service time always goes to the store. */
  readonly sink?: MeasurementSink;
  readonly log: Logger;
  readonly registry: Registry;
  readonly nowMs?: () => number;
  /** load_reporting_interval asked of clients (default 2000 ms). */
  readonly reportingIntervalMs?: number;
  /** Longest history of the demand estimate (default 30 × reportingIntervalMs; a real step restarts it, see RateEstimate). */
  readonly demandWindowMs?: number;
  /**
   * Observed service times are blended with the configured default as if the default had been seen
   * over this many requests (default 200): the first few reports' Little's-law estimates are noisy,
   * and one inflated estimate would shrink a node's planned capacity.
   */
  readonly priorCompletions?: number;
  /** Time constant of observed response times (default: max(10 s, 3 intervals), FaaSt's window). */
  readonly latencyTauMs?: number;
  readonly limits?: Partial<LrsLimits>;
  /** Longest gateway node name accepted (default 253). */
  readonly maxNameLength?: number;
  /** Series of proxima_lrs_requests_total (default 10,000); gateways the model does not know share one label. */
  readonly maxMetricSeries?: number;
  /** With mutual TLS: a gateway reports only for the node its certificate names. */
  readonly authorizer?: NodeAuthorizer;
}

interface LoadStatsRequest {
  node?: RawNode | null;
  cluster_stats?: RawClusterStats[];
}

type Stream = grpc.ServerDuplexStream<LoadStatsRequest, unknown>;

/** Demand and service times are written rounded, so noise below these steps does not wake the policy. */
const RPS_STEP = 0.01;
const MS_STEP = 0.01;
const round = (v: number, step: number) => Math.round(v / step) * step;

/**
 * envoy.service.load_stats.v3.LoadReportingService: asks every client for all clusters at a fixed
 * interval, turns per-locality request counts into smoothed demand per (gateway node, service) and
 * service time per node, and writes both into the model. Bad stats are counted and ignored.
 */
export class LoadReportingServer {
  private readonly store: ModelStore;
  private readonly sink: MeasurementSink;
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private readonly intervalMs: number;
  private readonly limits: LrsLimits;
  private readonly metrics: LrsMetrics;
  readonly demand: DemandModel;
  private readonly priorCompletions: number;
  private readonly calls = new Set<Stream>();
  private readonly series = new Set<string>();
  private readonly maxNameLength: number;
  private readonly maxSeries: number;
  private readonly authorizer: NodeAuthorizer | undefined;
  private nextSource = 0;
  private decayTimer: NodeJS.Timeout | undefined;

  constructor(opts: LoadReportingServerOptions) {
    this.store = opts.store;
    this.sink = opts.sink ?? opts.store;
    this.log = opts.log;
    this.nowMs = opts.nowMs ?? Date.now;
    this.intervalMs = opts.reportingIntervalMs ?? 2000;
    if (!(this.intervalMs > 0)) throw new RangeError('reportingIntervalMs must be > 0');
    this.limits = { ...DEFAULT_LRS_LIMITS, ...opts.limits };
    this.priorCompletions = opts.priorCompletions ?? 200;
    this.maxNameLength = opts.maxNameLength ?? 253;
    this.maxSeries = opts.maxMetricSeries ?? 10_000;
    this.authorizer = opts.authorizer;
    this.metrics = createLrsMetrics(opts.registry);
    this.demand = new DemandModel({
      demandWindowMs: opts.demandWindowMs ?? defaultDemandWindowMs(this.intervalMs),
      latencyTauMs: opts.latencyTauMs ?? defaultLatencyTauMs(this.intervalMs),
    });
  }

  register(server: GrpcServiceHost): void {
    const ctor = grpcLookup<grpc.ServiceClientConstructor>(envoyProtos().grpc, 'envoy.service.load_stats.v3.LoadReportingService');
    server.addService(ctor.service, { StreamLoadStats: (call: Stream) => this.handle(call) });
    // A client that stops reporting without closing its stream decays towards zero demand.
    this.decayTimer ??= setInterval(() => this.write(this.demand.decay(this.nowMs(), 3 * this.intervalMs)), this.intervalMs);
    this.decayTimer.unref();
  }

  close(): void {
    if (this.decayTimer) clearInterval(this.decayTimer);
    this.decayTimer = undefined;
    for (const c of this.calls) c.end();
    this.calls.clear();
  }

  private handle(call: Stream): void {
    const source = `lrs-${++this.nextSource}`;
    let gateway: string | undefined;
    this.calls.add(call);
    this.metrics.streams.set(this.calls.size);
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      this.calls.delete(call);
      this.metrics.streams.set(this.calls.size);
      this.write(this.demand.removeSource(source));
    };
    call.on('data', (req: LoadStatsRequest) => {
      try {
        if (gateway === undefined) {
          gateway = gatewayNodeOf(req.node);
          if (gateway === undefined) {
            this.reject('no_node');
            this.log.warn('LRS: first request carries no node; closing the stream');
            call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'the first LoadStatsRequest must carry node' });
            return;
          }
          const refusal = this.refusal(call, gateway, req.node?.id);
          if (refusal) {
            this.log.warn({ gateway: gateway.slice(0, 64), error: refusal.message }, 'LRS: stream refused');
            call.emit('error', { code: refusal.code, details: refusal.message });
            return;
          }
          this.log.info({ gateway, nodeId: req.node?.id }, 'LRS stream from gateway');
          call.write({
            send_all_clusters: true,
            load_reporting_interval: { seconds: Math.floor(this.intervalMs / 1000), nanos: (this.intervalMs % 1000) * 1e6 },
          });
        }
        this.onReport(source, gateway, req);
      } catch (err) {
        this.log.error({ err }, 'LRS: failed to handle a load report');
      }
    });
    onStreamDone(call, done);
  }

  /** Why the first request's node cannot be accepted, if it cannot. */
  private refusal(call: Stream, gateway: string, nodeId: string | undefined): { code: grpc.status; message: string } | undefined {
    const longest = Math.max(gateway.length, nodeId?.length ?? 0);
    if (longest > this.maxNameLength) {
      this.reject('name_too_long');
      return {
        code: grpc.status.INVALID_ARGUMENT,
        message: `node id or locality.sub_zone is ${longest} characters long; at most ${this.maxNameLength} (--max-name-length)`,
      };
    }
    const auth = this.authorizer?.check(call, gateway, 'lrs');
    if (auth && !auth.ok) {
      this.reject('identity_refused');
      return { code: grpc.status.PERMISSION_DENIED, message: `LRS for node "${gateway}" refused: ${auth.message}` };
    }
    return undefined;
  }

  /** Count completed requests of one flow, within the series budget. */
  private countFlow(gateway: string, node: string, service: string, done: number): void {
    const labels = { gateway: this.store.hasNode(gateway) ? gateway : UNKNOWN_LOCALITY, node, service };
    const key = `${labels.gateway}\u0000${node}\u0000${service}`;
    if (!this.series.has(key)) {
      if (this.series.size >= this.maxSeries) {
        this.metrics.seriesRefused.inc(done);
        return;
      }
      this.series.add(key);
    }
    this.metrics.flowRequests.inc(labels, done);
  }

  private reject(reason: LrsRejectReason, n = 1): void {
    this.metrics.rejected.inc({ reason }, n);
  }

  private onReport(source: string, gateway: string, req: LoadStatsRequest): void {
    this.metrics.reports.inc();
    const loads: ClusterLoad[] = [];
    for (const cs of req.cluster_stats ?? []) {
      const p = parseClusterStats(
        cs,
        (s) => this.store.service(s) !== undefined,
        (n) => this.store.hasNode(n),
        this.limits,
      );
      if ('rejected' in p) {
        this.reject(p.rejected);
        this.metrics.clusters.inc({ outcome: 'rejected' });
        this.log.debug({ gateway, cluster: p.name.slice(0, 256), reason: p.rejected }, 'LRS: cluster stats rejected');
        continue;
      }
      if (p.unknownLocalities > 0) this.reject('unknown_locality', p.unknownLocalities);
      this.metrics.clusters.inc({ outcome: 'accepted' });
      for (const l of p.ok.localities) {
        const done = l.succeeded + l.errors;
        if (done > 0) this.countFlow(gateway, l.node, p.ok.service, done);
      }
      loads.push(p.ok);
    }
    const now = this.nowMs();
    this.write(this.demand.observe(source, gateway, loads, now, (g, node) => this.store.rttMs(g, node, now)));
  }

  /** How often gateways are asked to report (ms). */
  get reportingIntervalMs(): number {
    return this.intervalMs;
  }

  /**
   * Load that reached no LRS stream: the requests the ext_proc server routed from `gateway` (to the
   * gateway's ORIGINAL_DST cluster, which reports none), one more source per gateway node.
   */
  observeRouted(gateway: string, loads: readonly ClusterLoad[]): void {
    for (const load of loads)
      for (const l of load.localities) {
        const done = l.succeeded + l.errors;
        if (done > 0) this.countFlow(gateway, l.node, load.service, done);
      }
    const now = this.nowMs();
    this.write(this.demand.observe(`extproc:${gateway}`, gateway, loads, now, (g, node) => this.store.rttMs(g, node, now)));
  }

  /** Write the current estimates of `services` into the model. */
  private write(services: ReadonlySet<string>): void {
    const flows = services.size > 0 ? this.demand.flows() : [];
    for (const service of services) {
      if (!this.store.service(service)) continue;
      const demand = new Map<string, number>();
      // Gateways on nodes the model does not know get the even assignment: their (unverifiable) demand steers nothing.
      for (const [g, rps] of this.demand.demandByGateway(service)) if (this.store.hasNode(g)) demand.set(g, round(rps, RPS_STEP));
      const times = new Map<string, number>();
      const completed = this.demand.completedByNode(service);
      const prior = this.store.defaults.serviceTimeMs;
      for (const [n, ms] of this.demand.serviceTimeByNode(service)) {
        if (this.store.hasNode(n)) times.set(n, round(shrinkTowardPrior(ms, completed.get(n) ?? 0, prior, this.priorCompletions), MS_STEP));
      }
      // The rate each node served while those times were observed: lets the policy separate queueing from service.
      const loads = new Map<string, number>();
      for (const f of flows) {
        if (f.service === service && times.has(f.node)) loads.set(f.node, round((loads.get(f.node) ?? 0) + f.rps, RPS_STEP));
      }
      this.sink.setDemand(service, demand);
      this.store.setServiceTime(service, times, loads);
      this.metrics.demandUpdates.inc();
    }
  }

  /** Requests/s of `service` sent to each node by other nodes' gateways in their last report. */
  inflowFromOtherGateways(service: string): Map<string, number> {
    return this.demand.inflowFromOtherGateways(service);
  }

  /** Smoothed requests/s per (gateway node, serving node, service), for /debug/traffic and /ui. */
  flows(): Array<{ gateway: string; node: string; service: string; rps: number }> {
    return this.demand.flows();
  }

  /** Current estimates, for /debug. */
  snapshot(): Array<{ service: string; demandRps: Record<string, number>; serviceTimeMs: Record<string, number> }> {
    return [...this.demand.services()].sort().map((service) => ({
      service,
      demandRps: Object.fromEntries(this.demand.demandByGateway(service)),
      serviceTimeMs: Object.fromEntries(this.demand.serviceTimeByNode(service)),
    }));
  }
}

/** Weighted mean of an observation over `n` requests and a prior worth `n0` requests. */
export function shrinkTowardPrior(observedMs: number, n: number, priorMs: number, n0: number): number {
  return n0 + n > 0 ? (priorMs * n0 + observedMs * n) / (n0 + n) : priorMs;
}

/** Time constant of the LRS response-time estimate: FaaSt's 10 s window, or three reports when longer. */
export function defaultLatencyTauMs(intervalMs: number): number {
  return Math.max(10_000, 3 * intervalMs);
}
