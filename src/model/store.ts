import type { GatewayConfig, HttpRoute, LatencyEntry, ModelDefaults, NodeInfo, Service, Topology } from './types.js';
import { DEFAULT_GATEWAY_CONFIG, DEFAULT_MODEL_DEFAULTS, routeForService } from './types.js';
import { buildLatencyMatrix, patchLatencyRows, type BuiltMatrix, type LatencyMatrix } from './latency-matrix.js';
import { PodSignalTable, type PodSignal, type PodSignalUpdate } from './pod-signals.js';
import { buildRttTable, sameRttTable } from './rtt-table.js';
import { sameDefaults, sameMap, sameNode, sameService } from './sameness.js';

/**
 * What changed in one mutation. `services` lists services whose own definition (hosts, protocol,
 * endpoints) or demand/service-time inputs changed; `global` means nodes, latencies or defaults
 * changed, so every service's assignment may change.
 */
export interface ModelChange {
  readonly services: ReadonlySet<string>;
  readonly global: boolean;
  /** Services that no longer exist. Also listed in `services`. */
  readonly removedServices: ReadonlySet<string>;
  /** HTTP routes (listeners / route configurations) changed. */
  readonly routes: boolean;
  /**
   * When the global change is only measured RTTs moving: the links that moved (from → to). Only the
   * rows of gateway `from` towards those nodes can change, which lets the engine recompute less.
   */
  readonly rttLinks?: ReadonlyMap<string, ReadonlySet<string>>;
}

export type ModelListener = (change: ModelChange) => void;

/** A measured RTT row, e.g. from a probe agent. */
export interface MeasuredRtt {
  readonly rttMs: number;
  readonly reachable: boolean;
  readonly atMs: number;
  /** The value last announced as a change (smaller moves are stored but not announced). */
  readonly announcedMs?: number;
}

/**
 * The in-memory state of the world. Plain data plus change notification; no I/O and no clock of its
 * own (callers pass `nowMs` where freshness matters), so policies and tests can use it directly.
 */
export class ModelStore {
  private nodesByName = new Map<string, NodeInfo>();
  /** Configured RTTs by from → to (see buildRttTable). */
  private configuredByFrom = new Map<string, Map<string, number>>();
  private measuredRtt = new Map<string, Map<string, MeasuredRtt>>();
  private matrixCache: { readonly built: BuiltMatrix; readonly atMs: number; readonly ttlMs: number } | undefined;
  /** Rows of `matrixCache` that measured RTTs moved since it was built (see latencyMatrix). */
  private readonly matrixStaleRows = new Set<string>();
  private servicesByName = new Map<string, Service>();
  private demand = new Map<string, Map<string, number>>();
  private serviceTime = new Map<string, Map<string, number>>();
  private serviceLoad = new Map<string, Map<string, number>>();
  /** What the pods measure themselves (queue-proxy), per service and node; `podSignals.ttlMs` sets freshness. */
  readonly podSignals = new PodSignalTable();
  /** Pods the scheduler extender expects to start (placed, not yet ready), per service and node. */
  private pending = new Map<string, Map<string, number>>();
  private listeners = new Set<ModelListener>();
  private currentDefaults: ModelDefaults = DEFAULT_MODEL_DEFAULTS;
  /** Explicit routes (Knative Ingresses); when undefined, routes are derived from services. */
  private explicitRoutes: ReadonlyMap<string, HttpRoute> | undefined;
  private gateway: GatewayConfig = DEFAULT_GATEWAY_CONFIG;
  /** Measured rows older than this are treated as unknown. */
  measuredRttTtlMs = 30_000;
  /**
   * A measured RTT announces a change (which re-runs every service's policy) only when it moved more
   * than this fraction and these milliseconds from the last announced value: probe noise alone must
   * not keep the assignment engine busy.
   */
  measuredRttChangeRatio = 0.05;
  measuredRttChangeMs = 1;
  private generationCounter = 0;

  /** Increases on every mutation that changed something. */
  get generation(): number {
    return this.generationCounter;
  }

  get defaults(): ModelDefaults {
    return this.currentDefaults;
  }

  onChange(listener: ModelListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  nodes(): readonly NodeInfo[] {
    return [...this.nodesByName.values()];
  }

  nodeNames(): string[] {
    return [...this.nodesByName.keys()];
  }

  node(name: string): NodeInfo | undefined {
    return this.nodesByName.get(name);
  }

  hasNode(name: string): boolean {
    return this.nodesByName.has(name);
  }

  services(): readonly Service[] {
    return [...this.servicesByName.values()];
  }

  service(name: string): Service | undefined {
    return this.servicesByName.get(name);
  }

  /**
   * HTTP routes served on gateway listeners: the explicit ones (Knative Ingresses) when a source set
   * them, else one per service with hosts (topology file).
   */
  routes(): readonly HttpRoute[] {
    if (this.explicitRoutes) return [...this.explicitRoutes.values()];
    return this.services()
      .filter((s) => s.hosts.length > 0)
      .map(routeForService);
  }

  /** Set explicit routes (the Kubernetes source); `undefined` goes back to routes derived from services. */
  setRoutes(routes: readonly HttpRoute[] | undefined): ModelChange {
    this.explicitRoutes = routes ? new Map(routes.map((r) => [r.name, r] as const)) : undefined;
    return this.emit(new Set(), new Set(), false, true);
  }

  /** Gateway-wide listener settings (Kubernetes source: config-kourier / config-network). */
  gatewayConfig(): GatewayConfig {
    return this.gateway;
  }

  /** Replace the gateway listener settings; announced as a routes change (listeners are rebuilt). */
  setGatewayConfig(config: GatewayConfig): ModelChange {
    this.gateway = config;
    return this.emit(new Set(), new Set(), false, true);
  }

  /** Configured RTT (topology file / defaults), ignoring measurements. */
  configuredRttMs(from: string, to: string): number | undefined {
    if (from === to) return this.currentDefaults.localRttMs;
    return this.configuredByFrom.get(from)?.get(to);
  }

  measured(from: string, to: string, nowMs: number): MeasuredRtt | undefined {
    const m = this.measuredRtt.get(from)?.get(to);
    if (!m || nowMs - m.atMs > this.measuredRttTtlMs) return undefined;
    return m;
  }

  /** RTT from `from` to `to`: fresh measurement, else configured, else the default. */
  rttMs(from: string, to: string, nowMs: number): number {
    if (from === to) return this.currentDefaults.localRttMs;
    const m = this.measured(from, to, nowMs);
    if (m && m.reachable) return m.rttMs;
    return this.configuredByFrom.get(from)?.get(to) ?? this.currentDefaults.rttMs;
  }

  /**
   * `rttMs` and `reachable` for every pair of known nodes at `nowMs` as a dense matrix (for bulk
   * callers such as the assignment engine). Cached until nodes or latencies change or a measured row
   * expires. Do not mutate.
   */
  latencyMatrix(nowMs: number): LatencyMatrix {
    const c = this.matrixCache;
    const valid = c !== undefined && c.ttlMs === this.measuredRttTtlMs && nowMs >= c.atMs && nowMs <= c.built.validUntilMs;
    if (valid && this.matrixStaleRows.size === 0) return c.built.matrix;
    const sources = {
      names: [...this.nodesByName.keys()],
      localRttMs: this.currentDefaults.localRttMs,
      defaultRttMs: this.currentDefaults.rttMs,
      configured: this.configuredByFrom,
      measured: this.measuredRtt,
      ttlMs: this.measuredRttTtlMs,
    };
    // A probe report moves one row: patch it rather than read every measured row again.
    const built =
      (valid ? patchLatencyRows(c.built, sources, this.matrixStaleRows, nowMs) : undefined) ?? buildLatencyMatrix(sources, nowMs);
    this.matrixStaleRows.clear();
    this.matrixCache = { built, atMs: valid ? c.atMs : nowMs, ttlMs: this.measuredRttTtlMs };
    return built.matrix;
  }

  /** False only when a fresh measurement says the peer does not answer. */
  reachable(from: string, to: string, nowMs: number): boolean {
    if (from === to) return true;
    const m = this.measured(from, to, nowMs);
    return m ? m.reachable : true;
  }

  /** Smoothed requests/s entering `gateway` for `service`, if learned. */
  demandRps(gateway: string, service: string): number | undefined {
    return this.demand.get(service)?.get(gateway);
  }

  demandByGateway(service: string): ReadonlyMap<string, number> {
    return this.demand.get(service) ?? new Map();
  }

  /** Observed mean service time of `service` at pods on `node`, if known. */
  serviceTimeMs(service: string, node: string): number | undefined {
    return this.serviceTime.get(service)?.get(node);
  }

  /**
   * What the pods of `service` on `node` measure themselves (Knative queue-proxy, via the node
   * agent): rate, concurrency, queue depth, request/app latency, each with its time. Undefined when
   * the node's agent has not reported it within `podSignals.ttlMs`. Per-request pickers (ext_proc)
   * may read queue depth and concurrency from here.
   */
  podSignal(service: string, node: string, nowMs: number): PodSignal | undefined {
    return this.podSignals.get(service, node, nowMs);
  }

  /** Every fresh pod signal of `service` at `nowMs`, by node. */
  podSignalsOf(service: string, nowMs: number): ReadonlyMap<string, PodSignal> {
    return this.podSignals.rowsOf(service, nowMs);
  }

  /** Record what `node`'s agent reported for `service`'s pods there; a significant move re-runs the policy. */
  setPodSignal(service: string, node: string, update: PodSignalUpdate): ModelChange {
    const changed = this.podSignals.set(service, node, update);
    return this.emit(changed && this.servicesByName.has(service) ? new Set([service]) : new Set(), new Set(), false);
  }

  /**
   * Replace nodes, configured latencies, services and defaults at once (the file source). Emits one
   * change naming only what differs from the current state.
   */
  replaceTopology(topology: Topology): ModelChange {
    let global = false;
    const nextNodes = new Map(topology.nodes.map((n) => [n.name, n] as const));
    if (nextNodes.size !== this.nodesByName.size) global = true;
    else {
      for (const [name, n] of nextNodes) {
        const old = this.nodesByName.get(name);
        if (!old || !sameNode(old, n)) {
          global = true;
          break;
        }
      }
    }
    const nextRtt = buildRttTable(topology.latency);
    if (!global && !sameRttTable(nextRtt, this.configuredByFrom)) global = true;
    if (!global && !sameDefaults(topology.defaults, this.currentDefaults)) global = true;

    const changed = new Set<string>();
    const removed = new Set<string>();
    const nextServices = new Map(topology.services.map((s) => [s.name, s] as const));
    for (const [name, s] of nextServices) {
      const old = this.servicesByName.get(name);
      if (!old || !sameService(old, s)) changed.add(name);
    }
    for (const name of this.servicesByName.keys()) {
      if (!nextServices.has(name)) {
        changed.add(name);
        removed.add(name);
      }
    }
    this.nodesByName = nextNodes;
    this.configuredByFrom = nextRtt;
    this.matrixCache = undefined;
    this.currentDefaults = topology.defaults;
    this.servicesByName = nextServices;
    for (const name of removed) {
      this.podSignals.delete(name);
      this.demand.delete(name);
      this.serviceTime.delete(name);
      this.serviceLoad.delete(name);
    }
    return this.emit(changed, removed, global);
  }

  upsertNode(node: NodeInfo): ModelChange {
    const old = this.nodesByName.get(node.name);
    if (old && sameNode(old, node)) return this.emit(new Set(), new Set(), false);
    this.nodesByName.set(node.name, node);
    this.matrixCache = undefined;
    return this.emit(new Set(), new Set(), true);
  }

  removeNode(name: string): ModelChange {
    if (!this.nodesByName.delete(name)) return this.emit(new Set(), new Set(), false);
    this.matrixCache = undefined;
    return this.emit(new Set(), new Set(), true);
  }

  upsertService(service: Service): ModelChange {
    const old = this.servicesByName.get(service.name);
    if (old && sameService(old, service)) return this.emit(new Set(), new Set(), false);
    this.servicesByName.set(service.name, service);
    return this.emit(new Set([service.name]), new Set(), false);
  }

  removeService(name: string): ModelChange {
    if (!this.servicesByName.delete(name)) return this.emit(new Set(), new Set(), false);
    this.podSignals.delete(name);
    this.demand.delete(name);
    this.serviceTime.delete(name);
    this.serviceLoad.delete(name);
    const s = new Set([name]);
    return this.emit(s, s, false);
  }

  /** Record measured RTT rows (probe reports). Emits a global change if any usable value moved. */
  setMeasuredRtt(from: string, rows: ReadonlyArray<{ to: string; rttMs: number; reachable: boolean }>, nowMs: number): ModelChange {
    const movedTo = new Set<string>();
    // A reachability in play (now or before) may change more than RTT-ranked rows: no link detail then.
    let reachabilityInPlay = false;
    let row = this.measuredRtt.get(from);
    if (!row && rows.length > 0) this.measuredRtt.set(from, (row = new Map()));
    for (const r of rows) {
      const old = row!.get(r.to);
      const announced = old?.announcedMs ?? old?.rttMs;
      const moved =
        !old ||
        announced === undefined ||
        old.reachable !== r.reachable ||
        nowMs - old.atMs > this.measuredRttTtlMs ||
        Math.abs(r.rttMs - announced) > Math.max(this.measuredRttChangeMs, this.measuredRttChangeRatio * announced);
      if (moved) movedTo.add(r.to);
      if (!r.reachable || (old && !old.reachable)) reachabilityInPlay = true;
      row!.set(r.to, { rttMs: r.rttMs, reachable: r.reachable, atMs: nowMs, announcedMs: moved ? r.rttMs : announced });
    }
    if (rows.length > 0) this.matrixStaleRows.add(from);
    return this.emit(new Set(), new Set(), movedTo.size > 0, false, reachabilityInPlay ? undefined : new Map([[from, movedTo]]));
  }

  /** Set smoothed demand per gateway for one service (LRS / ext_proc observations). */
  setDemand(service: string, byGateway: ReadonlyMap<string, number>): ModelChange {
    const old = this.demand.get(service);
    if (old && sameMap(old, byGateway)) return this.emit(new Set(), new Set(), false);
    this.demand.set(service, new Map(byGateway));
    return this.emit(this.servicesByName.has(service) ? new Set([service]) : new Set(), new Set(), false);
  }

  /** Request rate (req/s) at `node` while its `serviceTimeMs` was observed, if known. */
  serviceLoadRps(service: string, node: string): number | undefined {
    return this.serviceLoad.get(service)?.get(node);
  }

  /**
   * Set observed service time per node for one service, and optionally the request rate each node
   * served meanwhile (so a policy can take queueing back out of an observed latency).
   */
  setServiceTime(service: string, byNode: ReadonlyMap<string, number>, loadRpsByNode?: ReadonlyMap<string, number>): ModelChange {
    const old = this.serviceTime.get(service);
    const oldLoad = this.serviceLoad.get(service);
    const loadSame = loadRpsByNode === undefined || (oldLoad !== undefined && sameMap(oldLoad, loadRpsByNode));
    if (old && sameMap(old, byNode) && loadSame) return this.emit(new Set(), new Set(), false);
    if (loadRpsByNode) this.serviceLoad.set(service, new Map(loadRpsByNode));
    this.serviceTime.set(service, new Map(byNode));
    return this.emit(this.servicesByName.has(service) ? new Set([service]) : new Set(), new Set(), false);
  }

  /**
   * Pods of `service` the scheduler extender expects to start, per node (placed, not yet ready).
   * Never routable; policies may count them as capacity that is on its way.
   */
  pendingPods(service: string): ReadonlyMap<string, number> {
    return this.pending.get(service) ?? new Map();
  }

  /** Set the expected-but-not-ready pod count per node for one service (the scheduler extender). */
  setPendingPods(service: string, byNode: ReadonlyMap<string, number>): ModelChange {
    const old = this.pending.get(service) ?? new Map<string, number>();
    const next = new Map([...byNode].filter(([, n]) => n > 0));
    if (sameMap(old, next)) return this.emit(new Set(), new Set(), false);
    if (next.size > 0) this.pending.set(service, next);
    else this.pending.delete(service);
    return this.emit(this.servicesByName.has(service) ? new Set([service]) : new Set(), new Set(), false);
  }

  /** Latency rows as configured, for /debug and the UI. */
  configuredLatency(): LatencyEntry[] {
    const out: LatencyEntry[] = [];
    for (const [from, row] of this.configuredByFrom) for (const [to, rttMs] of row) out.push({ from, to, rttMs });
    return out;
  }

  private emit(
    services: Set<string>,
    removed: Set<string>,
    global: boolean,
    routes = false,
    rttLinks?: ReadonlyMap<string, ReadonlySet<string>>,
  ): ModelChange {
    // A service's hosts feed derived routes, so any service change may change routes.
    const routesChanged = routes || (!this.explicitRoutes && services.size > 0);
    const change: ModelChange = {
      services,
      removedServices: removed,
      global,
      routes: routesChanged,
      ...(global && rttLinks ? { rttLinks } : {}),
    };
    if (services.size === 0 && !global && !routesChanged) return change;
    this.generationCounter++;
    for (const l of this.listeners) l(change);
    return change;
  }
}
