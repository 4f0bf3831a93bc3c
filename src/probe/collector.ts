import { createHash } from 'node:crypto';
import type { GrpcServiceHost } from '../net/grpc-h2-services.js';
import * as grpcjs from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import type { NodeAuthorizer } from '../tls/authorizer.js';
import type { MeasurementSink } from '../model/sink.js';
import type * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { ModelStore } from '../model/store.js';
import { createProbeCollectorMetrics, type ProbeCollectorMetrics } from './metrics.js';
import { probeProtos, type AgentMsg, type ControlMsg, type PeerListMsg } from './protocol.js';
import { DEFAULT_REPORT_LIMITS, validateHello, validateReport, type ProbeRejectReason, type ReportLimits } from './validate.js';
import { onStreamDone } from '../util/grpc-stream.js';
import { validatePodSignals } from './pod-signal-validate.js';
import type { ScrapeTargetMsg, ScrapeTargetsMsg } from './protocol.js';
import { AUTOMETRIC_PORT, USERMETRIC_PORT } from './queue-proxy/scraper.js';

export interface ProbeCollectorOptions {
  readonly store: ModelStore;
  /** Where validated RTT rows go (default: the store). */
  readonly sink?: MeasurementSink;
  readonly log: Logger;
  readonly registry: Registry;
  readonly nowMs?: () => number;
  /** Rows whose last probe is older than this are dropped (unknown). Default: the store's measuredRttTtlMs. */
  readonly staleAfterMs?: number;
  /** Probe interval sent to agents; 0 (default) lets each agent keep its --interval-ms. */
  readonly probeIntervalMs?: number;
  /** Rows per report above this reject the report (default 4096). */
  readonly maxRowsPerReport?: number;
  /** Coalesce peer-list pushes after model changes for this long (default 50 ms). */
  readonly pushDelayMs?: number;
  /** With mutual TLS: an agent says hello only for the node its certificate names. */
  readonly authorizer?: NodeAuthorizer;
  /** Agents on nodes the model does not know (yet) are remembered in an LRU this big (default 10,000)… */
  readonly maxTrackedIds?: number;
  /** …for this long without a new hello (default 10 minutes). */
  readonly trackedIdTtlMs?: number;
  /**
   * Send each agent the ready endpoints on its node as queue-proxy scrape targets (Knative's ports
   * 9090/9091 on the endpoint's address). Default true.
   */
  readonly scrapeTargets?: boolean;
}

type Stream = grpc.ServerDuplexStream<AgentMsg, ControlMsg>;

interface AgentStream {
  readonly call: Stream;
  node?: string;
  sentVersion?: string;
  sentTargetsVersion?: string;
}

export interface ProbeAgentInfo {
  readonly node: string;
  readonly probeAddress: string;
  readonly streams: number;
  readonly lastReportMs?: number;
}

/**
 * The control-plane end of the probe protocol: learns each agent's probe address from its hello,
 * sends every agent the peers to probe (and a new list whenever nodes or addresses change), and feeds
 * validated RTT rows into the model. Bad reports are counted by reason and never reach the model.
 */
export class ProbeCollector {
  private readonly store: ModelStore;
  private readonly sink: MeasurementSink;
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private readonly metrics: ProbeCollectorMetrics;
  private readonly limits: ReportLimits;
  private readonly intervalMs: number;
  private readonly pushDelayMs: number;
  private readonly scrapeTargets: boolean;
  private targetsTimer: NodeJS.Timeout | undefined;
  private readonly streams = new Set<AgentStream>();
  /** Probe addresses of agents on known nodes: what peer lists are made of. */
  private readonly addresses = new Map<string, string>();
  /** Agents on nodes the model does not know yet (a Node object may arrive after its agent). */
  private readonly waiting: LRUCache<string, string>;
  private readonly authorizer: NodeAuthorizer | undefined;
  private readonly lastReport = new Map<string, number>();
  private membershipKey = '';
  private pushTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(opts: ProbeCollectorOptions) {
    this.store = opts.store;
    this.sink = opts.sink ?? opts.store;
    this.log = opts.log;
    this.nowMs = opts.nowMs ?? Date.now;
    this.metrics = createProbeCollectorMetrics(opts.registry);
    this.limits = {
      ...DEFAULT_REPORT_LIMITS,
      staleAfterMs: opts.staleAfterMs ?? opts.store.measuredRttTtlMs,
      maxRows: opts.maxRowsPerReport ?? DEFAULT_REPORT_LIMITS.maxRows,
    };
    this.intervalMs = opts.probeIntervalMs ?? 0;
    this.pushDelayMs = opts.pushDelayMs ?? 50;
    this.authorizer = opts.authorizer;
    this.waiting = new LRUCache<string, string>({ max: opts.maxTrackedIds ?? 10_000, ttl: opts.trackedIdTtlMs ?? 600_000 });
    this.scrapeTargets = opts.scrapeTargets ?? true;
  }

  /** Serve proxima.probe.v1.ProbeService on `server` (the xDS port) and follow model changes. */
  register(server: GrpcServiceHost): void {
    server.addService(probeProtos().service, { Connect: (call: Stream) => this.handle(call) });
    this.unsubscribe ??= this.store.onChange((c) => {
      if (c.global) this.schedulePush();
      if (c.global || c.services.size > 0) this.scheduleTargets();
    });
  }

  /** Stop following the model and end every agent stream. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.pushTimer) clearTimeout(this.pushTimer);
    if (this.targetsTimer) clearTimeout(this.targetsTimer);
    for (const s of this.streams) s.call.end();
    this.streams.clear();
    this.metrics.agents.set(0);
  }

  /** Agents seen (hello received), for /debug. */
  agents(): ProbeAgentInfo[] {
    const counts = new Map<string, number>();
    for (const s of this.streams) if (s.node) counts.set(s.node, (counts.get(s.node) ?? 0) + 1);
    return [...this.addresses]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([node, probeAddress]) => {
        const last = this.lastReport.get(node);
        return { node, probeAddress, streams: counts.get(node) ?? 0, ...(last !== undefined ? { lastReportMs: last } : {}) };
      });
  }

  /** The peer list `node` should probe: every other known node whose agent said hello. */
  peerListFor(node: string): PeerListMsg {
    const peers = this.store
      .nodeNames()
      .filter((n) => n !== node && this.addresses.has(n))
      .sort()
      .map((name) => ({ name, probe_address: this.addresses.get(name)! }));
    const version = createHash('sha256')
      .update(JSON.stringify([peers, this.intervalMs]))
      .digest('hex')
      .slice(0, 16);
    return { peers, interval_ms: this.intervalMs, version };
  }

  /** The queue-proxies `node`'s agent scrapes: every ready endpoint on that node, sorted. */
  scrapeTargetsFor(node: string): ScrapeTargetsMsg {
    return this.scrapeTargetsByNode().get(node) ?? this.targetsMsg([]);
  }

  /** Scrape targets of every node in one pass over the endpoints (one push costs O(endpoints)). */
  private scrapeTargetsByNode(): Map<string, ScrapeTargetsMsg> {
    const byNode = new Map<string, ScrapeTargetMsg[]>();
    for (const s of this.store.services()) {
      for (const e of s.endpoints) {
        if (!e.ready || e.pending) continue;
        let list = byNode.get(e.node);
        if (!list) byNode.set(e.node, (list = []));
        list.push({
          service: s.name,
          pod: `${e.address}:${e.port}`,
          host: e.address,
          autometric_port: AUTOMETRIC_PORT,
          usermetric_port: USERMETRIC_PORT,
        });
      }
    }
    return new Map([...byNode].map(([node, list]) => [node, this.targetsMsg(list)] as const));
  }

  private targetsMsg(list: ScrapeTargetMsg[]): ScrapeTargetsMsg {
    const targets = list.sort((a, b) => (a.service! + a.pod! < b.service! + b.pod! ? -1 : 1));
    const version = createHash('sha256').update(JSON.stringify(targets)).digest('hex').slice(0, 16);
    return { targets, version };
  }

  private handle(call: Stream): void {
    const s: AgentStream = { call };
    this.streams.add(s);
    this.metrics.agents.set(this.streams.size);
    const done = () => {
      if (!this.streams.delete(s)) return;
      this.metrics.agents.set(this.streams.size);
    };
    call.on('data', (msg: AgentMsg) => {
      try {
        this.onMessage(s, msg);
      } catch (err) {
        this.log.error({ err }, 'probe collector: failed to handle an agent message');
      }
    });
    onStreamDone(call, done);
  }

  private reject(reason: ProbeRejectReason, n = 1): void {
    this.metrics.rejected.inc({ reason }, n);
  }

  private onMessage(s: AgentStream, msg: AgentMsg): void {
    if (msg.hello) {
      const h = validateHello(msg.hello);
      if ('error' in h) {
        this.reject('bad_hello');
        this.log.warn({ error: h.error.slice(0, 512) }, 'probe collector: bad hello');
        return;
      }
      const auth = this.authorizer?.check(s.call, h.node, 'probe');
      if (auth && !auth.ok) {
        this.reject('identity_refused');
        this.log.warn({ node: h.node, error: auth.message }, 'probe collector: hello refused');
        s.call.emit('error', { code: grpcjs.status.PERMISSION_DENIED, details: `hello for node "${h.node}" refused: ${auth.message}` });
        return;
      }
      s.node = h.node;
      s.sentVersion = undefined;
      if (!this.store.hasNode(h.node)) {
        this.reject('unknown_node');
        this.waiting.set(h.node, h.probeAddress);
        this.metrics.waiting.set(this.waiting.size);
        this.log.warn({ node: h.node }, 'probe collector: hello from a node the model does not know (yet)');
      } else if (this.addresses.get(h.node) !== h.probeAddress) {
        this.addresses.set(h.node, h.probeAddress);
        this.log.info({ node: h.node, probeAddress: h.probeAddress }, 'probe agent registered');
        this.schedulePush();
      }
      this.send(s);
      this.sendTargets(s);
      return;
    }
    if (msg.report) this.onReport(s, msg);
  }

  private onReport(s: AgentStream, msg: AgentMsg): void {
    const v = validateReport(msg.report, s.node, (n) => this.store.hasNode(n), this.limits);
    for (const [reason, n] of v.rowRejects) this.reject(reason, n);
    if (v.rejectedAs) {
      this.reject(v.rejectedAs);
      this.metrics.reports.inc({ outcome: 'rejected' });
      this.log.debug({ node: s.node, reason: v.rejectedAs }, 'probe collector: report rejected');
      return;
    }
    this.metrics.reports.inc({ outcome: 'accepted' });
    const now = this.nowMs();
    this.lastReport.set(s.node!, now);
    this.onPodSignals(s.node!, msg, now);
    if (v.rows.length === 0) return;
    // Rows keep their age (per whole second) so a row probed long ago expires on time in the store.
    const byAgeS = new Map<number, Array<{ to: string; rttMs: number; reachable: boolean }>>();
    for (const r of v.rows) {
      const ageS = Math.floor(r.ageMs / 1000);
      let bucket = byAgeS.get(ageS);
      if (!bucket) byAgeS.set(ageS, (bucket = []));
      bucket.push({ to: r.to, rttMs: r.rttMs, reachable: r.reachable });
    }
    for (const [ageS, rows] of byAgeS) this.sink.setMeasuredRtt(s.node!, rows, now - ageS * 1000);
    this.metrics.rows.inc(v.rows.length);
  }

  /** Pod signals (queue-proxy aggregates) of an accepted report, into the store. */
  private onPodSignals(node: string, msg: AgentMsg, now: number): void {
    const rows = msg.report?.pod_signals;
    if (!rows || rows.length === 0) return;
    const sentAt = Number(msg.report?.sent_at_unix_ms ?? 0);
    const v = validatePodSignals(rows, (name) => this.store.service(name) !== undefined, sentAt);
    for (const [reason, n] of v.rejects) this.metrics.rejected.inc({ reason: `pod_signal_${reason}` }, n);
    for (const a of v.accepted) this.store.setPodSignal(a.service, node, { ...a.signal, atMs: now - a.ageMs });
    this.metrics.podSignalRows.inc(v.accepted.length);
  }

  private sendTargets(s: AgentStream, byNode?: ReadonlyMap<string, ScrapeTargetsMsg>): void {
    if (!s.node || !this.scrapeTargets) return;
    const list = byNode ? (byNode.get(s.node) ?? this.targetsMsg([])) : this.scrapeTargetsFor(s.node);
    if (list.version === s.sentTargetsVersion) return;
    s.sentTargetsVersion = list.version;
    s.call.write({ scrape_targets: list });
  }

  private scheduleTargets(): void {
    if (this.targetsTimer || !this.scrapeTargets) return;
    this.targetsTimer = setTimeout(
      () => {
        this.targetsTimer = undefined;
        if (this.streams.size === 0) return;
        const byNode = this.scrapeTargetsByNode();
        for (const s of this.streams) this.sendTargets(s, byNode);
      },
      Math.max(this.pushDelayMs, 1000),
    );
    this.targetsTimer.unref();
  }

  private send(s: AgentStream): void {
    if (!s.node) return;
    const list = this.peerListFor(s.node);
    if (list.version === s.sentVersion) return;
    s.sentVersion = list.version;
    s.call.write({ peers: list });
    this.metrics.peerLists.inc();
  }

  private schedulePush(): void {
    if (this.pushTimer) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.pushAll();
    }, this.pushDelayMs);
    this.pushTimer.unref();
  }

  /** Agents of nodes that joined the model start counting; those of nodes that left wait again. */
  private followMembership(): void {
    for (const [node, address] of this.waiting.entries()) {
      if (!this.store.hasNode(node)) continue;
      this.waiting.delete(node);
      this.addresses.set(node, address);
    }
    for (const [node, address] of [...this.addresses]) {
      if (this.store.hasNode(node)) continue;
      this.addresses.delete(node);
      this.lastReport.delete(node);
      this.waiting.set(node, address);
    }
    this.metrics.waiting.set(this.waiting.size);
  }

  /** Send a new list to every agent whose list changed; cheap when membership did not change. */
  private pushAll(): void {
    this.followMembership();
    const names = this.store.nodeNames().sort();
    const key = JSON.stringify([names, [...this.addresses].sort(([a], [b]) => (a < b ? -1 : 1))]);
    if (key === this.membershipKey) return;
    this.membershipKey = key;
    for (const s of this.streams) this.send(s);
  }
}
