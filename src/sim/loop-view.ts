import { DEFAULT_MODEL_DEFAULTS } from '../model/types.js';
import type { GatewayAssignment, NodeCapacity, PolicyInput } from '../policy/types.js';
import { defaultDemandWindowMs, RateEstimate } from '../lrs/rate-estimate.js';

/**
 * What Proxima's measurement loop would know, not the truth: RTTs as an EWMA of jittered probe
 * samples, demand per gateway counted over an LRS interval and estimated as the control plane does
 * (src/lrs/rate-estimate.ts: the mean since the last detected change), and per-node
 * latency at the pods as the queue-proxies measure it (src/probe/queue-proxy), refreshed on every
 * recompute:
 * - `proxima` gets the app latency the queue-proxies saw over the last 10 s (the user container
 *   alone: the pure service time, completion-weighted) and the queue wait beside it (in-pod time
 *   minus app time) with the rate behind it, as the node agent reports them;
 * - `faast` gets FaaSt's P_j (bonavadeur/miporin `pkg/scraper/kodomo.go`): per pod,
 *   rate(revision_request_latencies_sum[10s]) / rate(…_count[10s]) — the in-pod time, queue wait
 *   included — averaged over the node's pods that ever served one, a pod without a completed request
 *   in the window counting 0 (PromQL's NaN as miporin reads it), and 0 for a node with no such pod;
 *   FaaSt keeps nothing from earlier windows;
 * - without queue-proxy figures (no completions yet) `proxima` falls back to the window mean of what
 *   the gateway sees at the node (service + queueing + overhead), as the LRS estimate would; FaaSt's
 *   P_j is then 0, as above.
 * Apart from FaaSt's P_j, nodes without traffic keep their last values.
 */
export interface LoopViewOptions {
  readonly rttAlpha: number;
  readonly lrsIntervalMs: number;
  readonly latencyWindowMs: number;
  /**
   * How often the per-node latencies are refreshed: the node agents' queue-proxy scrape interval
   * (FaaSt recomputes its P_j every 2 s too). Default: on every recompute.
   */
  readonly podScrapeIntervalMs?: number;
}

export const DEFAULT_LOOP_VIEW: LoopViewOptions = { rttAlpha: 0.3, lrsIntervalMs: 5000, latencyWindowMs: 10_000 };

/** What a pod's queue-proxy saw of one request. */
export interface PodObservation {
  readonly pod: number;
  /** Arrival at the pod to response, queue wait included (`revision_request_latencies`). */
  readonly inPodMs: number;
  /** In the user container only (`revision_app_request_latencies`). */
  readonly appMs: number;
}

export class LoopView {
  private readonly rtt = new Map<string, number>();
  private readonly demand = new Map<string, RateEstimate>();
  private readonly arrivals = new Map<string, number>();
  /** Completed requests per node as [atMs, sojournMs, what the pod saw] within the window. */
  private readonly completions = new Map<string, Array<[number, number, PodObservation | undefined]>>();
  private readonly latency = new Map<string, number>();
  private readonly appLatency = new Map<string, number>();
  private readonly queueWait = new Map<string, { waitMs: number; rps: number }>();
  private readonly faastLatency = new Map<string, number>();
  /** Per node, the pods that ever completed a request (their latency series exist for FaaSt's query). */
  private readonly servedPods = new Map<string, Set<number>>();
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
      let estimate = this.demand.get(g);
      if (!estimate) this.demand.set(g, (estimate = new RateEstimate({ windowMs: defaultDemandWindowMs(this.opts.lrsIntervalMs) })));
      estimate.observe(this.arrivals.get(g) ?? 0, this.opts.lrsIntervalMs);
      this.arrivals.set(g, 0);
    }
  }

  completion(node: string, atMs: number, sojournMs: number, seen?: PodObservation): void {
    let list = this.completions.get(node);
    if (!list) this.completions.set(node, (list = []));
    list.push([atMs, sojournMs, seen]);
    if (seen) {
      let pods = this.servedPods.get(node);
      if (!pods) this.servedPods.set(node, (pods = new Set()));
      pods.add(seen.pod);
    }
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
        this.faastLatency.set(node, 0);
        continue;
      }
      this.latency.set(node, list.reduce((s, [, v]) => s + v, 0) / list.length);
      this.latencyLoad.set(node, (list.length * 1000) / this.opts.latencyWindowMs);
      const perPod = new Map<number, { sum: number; n: number }>();
      let inPodSum = 0;
      let appSum = 0;
      let inPodN = 0;
      for (const [, , seen] of list) {
        if (!seen) continue;
        const p = perPod.get(seen.pod) ?? { sum: 0, n: 0 };
        p.sum += seen.inPodMs;
        p.n++;
        perPod.set(seen.pod, p);
        inPodSum += seen.inPodMs;
        appSum += seen.appMs;
        inPodN++;
      }
      const served = this.servedPods.get(node);
      if (served?.size)
        this.faastLatency.set(
          node,
          [...served].reduce((s, pod) => s + (perPod.has(pod) ? perPod.get(pod)!.sum / perPod.get(pod)!.n : 0), 0) / served.size,
        );
      if (inPodN > 0) {
        this.appLatency.set(node, appSum / inPodN);
        this.queueWait.set(node, { waitMs: Math.max(0, (inPodSum - appSum) / inPodN), rps: (inPodN * 1000) / this.opts.latencyWindowMs });
      }
    }
  }

  input(
    service: string,
    gateways: readonly string[],
    backends: readonly NodeCapacity[],
    previous?: ReadonlyMap<string, GatewayAssignment>,
  ): PolicyInput {
    const rtt = new Map(this.rtt);
    const demand = new Map([...this.demand].map(([g, e]) => [g, e.value ?? 0] as const));
    const latency = new Map(this.latency);
    const load = new Map(this.latencyLoad);
    const app = new Map(this.appLatency);
    const wait = new Map(this.queueWait);
    const faast = new Map(this.faastLatency);
    return {
      service,
      gateways,
      backends,
      rttMs: (a, b) => rtt.get(`${a}>${b}`) ?? DEFAULT_MODEL_DEFAULTS.rttMs,
      reachable: () => true,
      demandRps: (g) => demand.get(g) ?? DEFAULT_MODEL_DEFAULTS.demandRps,
      serviceTimeMs: (n) => app.get(n) ?? latency.get(n) ?? DEFAULT_MODEL_DEFAULTS.serviceTimeMs,
      serviceLoadRps: (n) => (!app.has(n) && latency.has(n) ? load.get(n) : undefined),
      podQueueWait: (n) => wait.get(n),
      faastLatencyMs: (n) => faast.get(n) ?? 0,
      ...(previous ? { previous } : {}),
    };
  }
}
