import { DEFAULT_MODEL_DEFAULTS } from '../model/types.js';
import type { GatewayAssignment, NodeCapacity, PolicyInput } from '../policy/types.js';

/**
 * What Proxima's measurement loop would know, not the truth: RTTs as an EWMA of jittered probe
 * samples, demand per gateway counted over an LRS interval and smoothed (so it lags), and per-node
 * latency at the pods (service + queueing) as a sliding window mean refreshed periodically.
 */
export interface LoopViewOptions {
  readonly rttAlpha: number;
  readonly demandAlpha: number;
  readonly lrsIntervalMs: number;
  readonly latencyWindowMs: number;
}

export const DEFAULT_LOOP_VIEW: LoopViewOptions = { rttAlpha: 0.3, demandAlpha: 0.5, lrsIntervalMs: 5000, latencyWindowMs: 10_000 };

export class LoopView {
  private readonly rtt = new Map<string, number>();
  private readonly demand = new Map<string, number>();
  private readonly arrivals = new Map<string, number>();
  /** Completed requests per node as [atMs, sojournMs] within the window. */
  private readonly completions = new Map<string, Array<[number, number]>>();
  private readonly latency = new Map<string, number>();
  private readonly latencyLoad = new Map<string, number>();

  constructor(
    private readonly opts: LoopViewOptions,
    configuredRttMs: (a: string, b: string) => number,
    nodes: readonly string[],
  ) {
    for (const a of nodes) for (const b of nodes) this.rtt.set(`${a}>${b}`, configuredRttMs(a, b));
  }

  probe(from: string, to: string, sampleMs: number): void {
    const k = `${from}>${to}`;
    const old = this.rtt.get(k);
    this.rtt.set(k, old === undefined ? sampleMs : old + this.opts.rttAlpha * (sampleMs - old));
  }

  arrival(gateway: string): void {
    this.arrivals.set(gateway, (this.arrivals.get(gateway) ?? 0) + 1);
  }

  /** One LRS report per gateway: counts over the interval, smoothed. */
  lrsReport(gateways: readonly string[]): void {
    for (const g of gateways) {
      const rps = ((this.arrivals.get(g) ?? 0) * 1000) / this.opts.lrsIntervalMs;
      const old = this.demand.get(g);
      this.demand.set(g, old === undefined ? rps : old + this.opts.demandAlpha * (rps - old));
      this.arrivals.set(g, 0);
    }
  }

  completion(node: string, atMs: number, sojournMs: number): void {
    let list = this.completions.get(node);
    if (!list) this.completions.set(node, (list = []));
    list.push([atMs, sojournMs]);
  }

  /** Refresh the per-node latency means from the last window (nodes without traffic keep theirs). */
  refreshLatency(nowMs: number): void {
    for (const [node, list] of this.completions) {
      const from = nowMs - this.opts.latencyWindowMs;
      let i = 0;
      while (i < list.length && list[i]![0] < from) i++;
      if (i > 0) list.splice(0, i);
      if (list.length === 0) {
        this.latencyLoad.set(node, 0);
        continue;
      }
      this.latency.set(node, list.reduce((s, [, v]) => s + v, 0) / list.length);
      this.latencyLoad.set(node, (list.length * 1000) / this.opts.latencyWindowMs);
    }
  }

  input(
    service: string,
    gateways: readonly string[],
    backends: readonly NodeCapacity[],
    previous?: ReadonlyMap<string, GatewayAssignment>,
  ): PolicyInput {
    const rtt = new Map(this.rtt);
    const demand = new Map(this.demand);
    const latency = new Map(this.latency);
    const load = new Map(this.latencyLoad);
    return {
      service,
      gateways,
      backends,
      rttMs: (a, b) => rtt.get(`${a}>${b}`) ?? DEFAULT_MODEL_DEFAULTS.rttMs,
      reachable: () => true,
      demandRps: (g) => demand.get(g) ?? DEFAULT_MODEL_DEFAULTS.demandRps,
      serviceTimeMs: (n) => latency.get(n) ?? DEFAULT_MODEL_DEFAULTS.serviceTimeMs,
      serviceLoadRps: (n) => (latency.has(n) ? load.get(n) : undefined),
      ...(previous ? { previous } : {}),
    };
  }
}
