import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Registry } from 'prom-client';
import type { ListenAddress } from '../config.js';
import type { Logger } from '../log.js';
import { PeerEstimator, DEFAULT_PEER_ESTIMATOR_OPTIONS, type PeerEstimate, type PeerEstimatorOptions } from './estimator.js';
import { createProbeMetrics, type ProbeMetrics } from './metrics.js';
import { HttpProber, tcpConnectMs } from './prober.js';
import type { PeerListMsg, PeerMsg, RttRowMsg } from './protocol.js';
import { ReportClient } from './report-client.js';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { selectPeers } from './selection.js';
import type { BackoffOptions } from './backoff.js';
import { QueueProxyLoop, targetsFromMsg, type QueueProxyLoopOptions } from './queue-proxy/loop.js';

export interface ProbeAgentOptions {
  /** The node this agent runs on. */
  readonly node: string;
  /** Control plane `host:port`; without it the agent only probes `staticPeers`. */
  readonly controlPlane?: string;
  /** Where GET /probe (and /metrics, /healthz) is served. */
  readonly listen: ListenAddress;
  /** `host:port` peers use to reach this agent; default: the bound address (a non-loopback IP for 0.0.0.0). */
  readonly advertiseAddress?: string;
  /** Optional second listener for /metrics, /healthz and /debug/peers only. */
  readonly adminListen?: ListenAddress;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Rotating peers per round (near and suspect peers come on top, each capped at the same number). */
  readonly maxPeers: number;
  /** Peers with a smoothed RTT below this are probed every round. */
  readonly nearRttMs: number;
  /**
   * A sample that looks like a level shift is confirmed by one more probe of that peer this long
   * later instead of a round later, so a link that got slower is reported within about one interval
   * (default: a quarter of the interval, at most 250 ms).
   */
  readonly confirmDelayMs?: number;
  readonly estimator?: Partial<PeerEstimatorOptions>;
  /** Peers to probe before (or without) a control plane. */
  readonly staticPeers?: readonly PeerMsg[];
  readonly backoff?: BackoffOptions;
  /** Scrape the queue-proxies of this node's pods and report what they measure (off when absent). */
  readonly queueProxy?: Omit<QueueProxyLoopOptions, 'registry' | 'nowMs'>;
  readonly version?: string;
  readonly log: Logger;
  readonly registry: Registry;
  readonly nowMs?: () => number;
  readonly rng?: () => number;
  /** Credentials for the report stream (default plaintext). */
  readonly credentials?: ChannelCredentials;
  /** Extra channel options for the report stream. */
  readonly channelOptions?: ChannelOptions;
}

interface PeerState {
  address: string;
  readonly est: PeerEstimator;
  /** A probe of this peer is in flight: a second one on the same connection would time the queue. */
  busy: boolean;
  confirmTimer: NodeJS.Timeout | undefined;
}

/** Pick the address peers can reach when listening on a wildcard address. */
function advertiseHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return '127.0.0.1';
}

/**
 * The node agent: answers GET /probe, probes a bounded, rotating set of peers every interval (with
 * jitter), keeps per-peer estimates, exports them as metrics and reports them to the control plane.
 */
export class ProbeAgent {
  private readonly opts: ProbeAgentOptions;
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private readonly rng: () => number;
  private readonly metrics: ProbeMetrics;
  private readonly estimatorOpts: PeerEstimatorOptions;
  private readonly http: HttpProber;
  private readonly peers = new Map<string, PeerState>();
  private readonly servers: Server[] = [];
  private client: ReportClient | undefined;
  private readonly queueProxy: QueueProxyLoop | undefined;
  private cursor = 0;
  private intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private roundInFlight: Promise<void> | undefined;
  private probeAddr = '';
  private boundPort = 0;
  private rounds = 0;

  constructor(opts: ProbeAgentOptions) {
    if (!(opts.intervalMs > 0)) throw new RangeError('intervalMs must be > 0');
    if (!(opts.timeoutMs > 0 && opts.timeoutMs <= opts.intervalMs))
      throw new RangeError('timeoutMs must be > 0 and <= intervalMs, so an unreachable peer is detected within 3 intervals');
    if (!(opts.maxPeers >= 1)) throw new RangeError('maxPeers must be >= 1');
    this.opts = opts;
    this.log = opts.log;
    this.nowMs = opts.nowMs ?? Date.now;
    this.rng = opts.rng ?? Math.random;
    this.intervalMs = opts.intervalMs;
    this.metrics = createProbeMetrics(opts.registry);
    this.estimatorOpts = { ...DEFAULT_PEER_ESTIMATOR_OPTIONS, ...opts.estimator };
    this.http = new HttpProber({ keepAliveMs: Math.max(10_000, opts.intervalMs * 3) });
    if (opts.staticPeers) this.setPeers(opts.staticPeers);
    if (opts.queueProxy) {
      this.queueProxy = new QueueProxyLoop({ ...opts.queueProxy, registry: opts.registry, nowMs: this.nowMs }, (podSignals) => {
        if (this.client?.send({ node: opts.node, rows: [], pod_signals: podSignals, sent_at_unix_ms: this.nowMs() }))
          this.metrics.reports.inc();
      });
    }
  }

  /** The address peers probe (`host:port`), known after start(). */
  get probeAddress(): string {
    return this.probeAddr;
  }

  /** The port --listen bound (useful with port 0). */
  get listenPort(): number {
    return this.boundPort;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get currentIntervalMs(): number {
    return this.intervalMs;
  }

  /** Completed probe rounds. */
  get roundCount(): number {
    return this.rounds;
  }

  /** Bind listeners, connect to the control plane and start probing. */
  async start(): Promise<{ probeAddress: string; adminAddress?: string }> {
    const probe = await this.listenOn(this.opts.listen, true);
    this.boundPort = probe.port;
    this.probeAddr = this.opts.advertiseAddress ?? `${advertiseHost(probe.address)}:${probe.port}`;
    let adminAddress: string | undefined;
    if (this.opts.adminListen) {
      const a = await this.listenOn(this.opts.adminListen, false);
      adminAddress = `${a.address}:${a.port}`;
    }
    if (this.opts.controlPlane) {
      this.client = new ReportClient({
        target: this.opts.controlPlane,
        node: this.opts.node,
        probeAddress: this.probeAddr,
        version: this.opts.version ?? 'dev',
        log: this.log,
        rng: this.rng,
        ...(this.opts.backoff ? { backoff: this.opts.backoff } : {}),
        onPeers: (list) => this.onPeerList(list),
        onScrapeTargets: (list) => this.queueProxy?.setTargets(targetsFromMsg(list.targets)),
        onConnected: (up) => {
          this.metrics.connected.set(up ? 1 : 0);
          if (up) this.sendReport(this.fullRows());
        },
        onAttempt: () => this.metrics.reconnects.inc(),
        ...(this.opts.credentials ? { credentials: this.opts.credentials } : {}),
        ...(this.opts.channelOptions ? { channelOptions: this.opts.channelOptions } : {}),
      });
      this.client.start();
    }
    this.running = true;
    this.schedule(0);
    this.queueProxy?.start();
    this.log.info(
      { node: this.opts.node, probeAddress: this.probeAddr, adminAddress, controlPlane: this.opts.controlPlane },
      'probe agent is up',
    );
    return { probeAddress: this.probeAddr, ...(adminAddress ? { adminAddress } : {}) };
  }

  async close(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    for (const p of this.peers.values()) clearTimeout(p.confirmTimer);
    this.client?.close();
    await this.queueProxy?.close();
    await this.roundInFlight;
    await this.http.close();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections();
          }),
      ),
    );
  }

  /** Current estimates, by peer name. */
  estimates(): PeerEstimate[] {
    return [...this.peers.values()].map((p) => p.est.estimate()).sort((a, b) => (a.peer < b.peer ? -1 : 1));
  }

  estimate(peer: string): PeerEstimate | undefined {
    return this.peers.get(peer)?.est.estimate();
  }

  /** Replace the peer list (from the control plane, or static). */
  setPeers(list: readonly PeerMsg[]): void {
    const next = new Map<string, string>();
    for (const p of list) if (p.name && p.probe_address && p.name !== this.opts.node) next.set(p.name, p.probe_address);
    for (const name of [...this.peers.keys()]) {
      if (next.has(name)) continue;
      clearTimeout(this.peers.get(name)!.confirmTimer);
      this.peers.delete(name);
      for (const g of [
        this.metrics.rttMs,
        this.metrics.rttP90Ms,
        this.metrics.tcpConnectMs,
        this.metrics.lossRatio,
        this.metrics.reachable,
      ])
        g.remove({ peer: name });
    }
    for (const [name, address] of next) {
      const p = this.peers.get(name);
      if (p) p.address = address;
      else this.peers.set(name, { address, est: new PeerEstimator(name, this.estimatorOpts), busy: false, confirmTimer: undefined });
    }
    this.metrics.peers.set(this.peers.size);
    void this.http.retain(new Set(next.values()));
  }

  private onPeerList(list: PeerListMsg): void {
    this.setPeers(list.peers ?? []);
    const interval = list.interval_ms ?? 0;
    if (interval > 0 && interval !== this.intervalMs && interval >= this.opts.timeoutMs) this.intervalMs = interval;
    this.log.debug({ peers: this.peers.size, version: list.version, intervalMs: this.intervalMs }, 'probe: peer list');
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      const started = this.nowMs();
      this.roundInFlight = this.round().finally(() => {
        this.roundInFlight = undefined;
        // A fixed interval with ±10 % jitter, measured from the round's start.
        const next = this.intervalMs * (0.9 + 0.2 * this.rng());
        this.schedule(Math.max(0, next - (this.nowMs() - started)));
      });
    }, delayMs);
  }

  /** One probe round (exposed for tests): select, probe in parallel, update, report. */
  async round(): Promise<void> {
    const views = [...this.peers.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, p]) => {
        const e = p.est.estimate();
        return { name, rttMs: e.rttMs, reachable: e.reachable, suspect: p.est.suspect, probed: e.measuredAtMs !== undefined };
      });
    const sel = selectPeers({ peers: views, maxPeers: this.opts.maxPeers, nearRttMs: this.opts.nearRttMs, cursor: this.cursor });
    this.cursor = sel.nextCursor;
    this.metrics.probedPerRound.set({ reason: 'near' }, sel.near);
    this.metrics.probedPerRound.set({ reason: 'suspect' }, sel.suspect);
    this.metrics.probedPerRound.set({ reason: 'rotating' }, sel.rotating);
    const endTimer = this.metrics.roundSeconds.startTimer();
    await Promise.all(sel.names.map((name) => this.probeOne(name)));
    endTimer();
    this.rounds++;
    const rows: RttRowMsg[] = [];
    for (const name of sel.names) {
      const row = this.row(name);
      if (row) rows.push(row);
      this.confirmIfShifted(name);
    }
    this.sendReport(rows);
  }

  /** Probe a peer whose last sample looked like a level shift once more, soon, and report what it decided. */
  private confirmIfShifted(name: string): void {
    const p = this.peers.get(name);
    if (!p || !p.est.shiftPending || p.confirmTimer || !this.running) return;
    const delayMs = this.opts.confirmDelayMs ?? Math.min(250, this.intervalMs / 4);
    p.confirmTimer = setTimeout(() => {
      p.confirmTimer = undefined;
      if (!this.running || this.peers.get(name) !== p) return;
      this.metrics.confirmations.inc();
      void this.probeOne(name).then(() => {
        const row = this.row(name);
        if (row && this.running) this.sendReport([row]);
      });
    }, delayMs);
    p.confirmTimer.unref();
  }

  private async probeOne(name: string): Promise<void> {
    const p = this.peers.get(name);
    if (!p || p.busy) return;
    p.busy = true;
    let h: Awaited<ReturnType<HttpProber['probe']>>;
    let t: Awaited<ReturnType<typeof tcpConnectMs>>;
    try {
      [h, t] = await Promise.all([this.http.probe(p.address, this.opts.timeoutMs), tcpConnectMs(p.address, this.opts.timeoutMs)]);
    } finally {
      p.busy = false;
    }
    if (this.peers.get(name) !== p) return; // removed while probing
    const now = this.nowMs();
    this.metrics.probes.inc({ outcome: h.outcome });
    if (h.outcome === 'ok') p.est.success(h.rttMs!, now);
    else {
      p.est.failure(now);
      this.log.debug({ peer: name, outcome: h.outcome, error: h.error }, 'probe failed');
    }
    if (t.outcome === 'ok') p.est.tcpConnect(t.rttMs!);
    const e = p.est.estimate();
    if (e.rttMs !== undefined) this.metrics.rttMs.set({ peer: name }, e.rttMs);
    if (e.p90Ms !== undefined) this.metrics.rttP90Ms.set({ peer: name }, e.p90Ms);
    if (e.tcpConnectMs !== undefined) this.metrics.tcpConnectMs.set({ peer: name }, e.tcpConnectMs);
    this.metrics.lossRatio.set({ peer: name }, e.lossRatio);
    this.metrics.reachable.set({ peer: name }, e.reachable ? 1 : 0);
  }

  /** The report row for a peer; none when there is nothing to say yet (never answered, not yet unreachable). */
  private row(name: string): RttRowMsg | undefined {
    const e = this.peers.get(name)?.est.estimate();
    if (!e || e.measuredAtMs === undefined) return undefined;
    if (e.samples === 0 && e.reachable) return undefined;
    return {
      peer: name,
      rtt_ms: e.rttMs ?? 0,
      p90_ms: e.p90Ms ?? 0,
      loss_ratio: e.lossRatio,
      reachable: e.reachable,
      samples: e.samples,
      measured_at_unix_ms: e.measuredAtMs,
      tcp_connect_ms: e.tcpConnectMs ?? 0,
    };
  }

  private fullRows(): RttRowMsg[] {
    const out: RttRowMsg[] = [];
    for (const name of this.peers.keys()) {
      const r = this.row(name);
      if (r) out.push(r);
    }
    return out;
  }

  private sendReport(rows: RttRowMsg[]): void {
    if (!this.client || rows.length === 0) return;
    if (this.client.send({ node: this.opts.node, rows, sent_at_unix_ms: this.nowMs() })) this.metrics.reports.inc();
  }

  private async listenOn(addr: ListenAddress, probe: boolean): Promise<AddressInfo> {
    const server = createServer((req, res) => this.serveHttp(req, res, probe));
    // Outlive the prober's keep-alive so the server never closes a connection a probe is about to reuse.
    server.keepAliveTimeout = Math.max(10_000, this.opts.intervalMs * 3) + 5_000;
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(addr.port, addr.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  private serveHttp(req: IncomingMessage, res: ServerResponse, probe: boolean): void {
    const path = (req.url ?? '/').split('?')[0];
    if (probe && path === '/probe') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
      res.end('ok\n');
      return;
    }
    if (path === '/healthz') {
      const body = JSON.stringify({
        status: 'ok',
        node: this.opts.node,
        peers: this.peers.size,
        connected: this.connected,
        rounds: this.rounds,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    if (path === '/metrics') {
      this.opts.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.opts.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
      return;
    }
    if (path === '/debug/peers') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ node: this.opts.node, intervalMs: this.intervalMs, peers: this.estimates() }, null, 2));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  }
}
