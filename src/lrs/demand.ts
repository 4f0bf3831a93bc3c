import { TimeEwma } from '../util/ewma.js';
import type { ClusterLoad } from './parse.js';
import { RateEstimate } from './rate-estimate.js';

/**
 * Demand learning from LRS reports (pure; time passed in).
 *
 * - Demand per (gateway node, service) = issued requests / interval seconds, averaged since it last
 *   changed (RateEstimate: a long window, restarted at once by a real step), summed over every
 *   reporting client on that node (several gRPC processes, or
 *   an Envoy restart overlapping its predecessor). A tracked cluster missing from a report had no
 *   requests (gRPC and Envoy skip idle clusters), so it counts as 0 over the time since its last report.
 * - Time spent at each node (service + queueing) by Little's law, per (gateway, upstream node): the
 *   requests in progress minus those on the wire (completion rate × the RTT when the report came),
 *   divided by the completion rate, all smoothed; combined over gateways weighted by their precision.
 *   Subtracting the RTT per report, not from the smoothed response time, keeps a link whose delay
 *   just stepped from making the node look faster or slower for a whole smoothing window.
 */

export interface DemandModelOptions {
  /** Longest history of the demand estimate (see RateEstimate), ms. */
  readonly demandWindowMs: number;
  /**
   * Time constant of the per-locality completion rate and in-progress count behind the observed
   * response time (default demandWindowMs). In-progress is a snapshot per report, so at low rates it is noisy:
   * a window like FaaSt's 10 s keeps one unlucky report from shrinking a node's estimated capacity.
   */
  readonly latencyTauMs?: number;
  /** Completed requests a gateway must report for a node before its response time is used (default 50). */
  readonly minCompletions?: number;
  /** Entries below this rate are dropped once they decayed (requests/s). */
  readonly minRps?: number;
}

interface LocalityState {
  /** Completions/s over every report: the traffic matrix. */
  readonly completionRps: TimeEwma;
  /** Completions/s, in progress, and in progress minus on the wire, over steady reports only (Little's law). */
  readonly steadyRps: TimeEwma;
  readonly inProgress: TimeEwma;
  readonly atNode: TimeEwma;
  /** Issued requests/s in the previous report (0 after one without traffic). */
  lastIssuedRps: number;
  /** Requests completed since tracking began: response times need enough of them to mean anything. */
  completed: number;
}

interface Track {
  readonly gateway: string;
  readonly service: string;
  readonly issuedRps: RateEstimate;
  readonly localities: Map<string, LocalityState>;
  lastMs: number;
}

/**
 * Little's law holds for a stationary flow. A report in which traffic to a locality was being added
 * or withdrawn pairs an in-progress snapshot of one regime with completions of another: 0 in
 * progress with a full interval of completions right after a gateway moved its traffic away (a node
 * that serves in no time), or a full in-progress count over a completion rate diluted by the part of
 * the interval before the traffic arrived (a node 5× slower than it is). So a report counts for
 * response times only when the previous one carried traffic at about the same rate (`previousIssued`,
 * scaled to this report's interval) and issued and completed differ by no more than in-flight noise.
 * Every report still counts for demand and the traffic matrix.
 */
export function steady(previousIssued: number, issued: number, completed: number): boolean {
  return (
    previousIssued > 0 &&
    Math.abs(issued - previousIssued) <= 2 + 0.5 * Math.max(issued, previousIssued) &&
    Math.abs(issued - completed) <= 2 + 0.1 * Math.max(issued, completed)
  );
}

export class DemandModel {
  /** source (one LRS stream) → service → track */
  private readonly sources = new Map<string, Map<string, Track>>();
  private readonly demandWindowMs: number;
  private readonly latencyTauMs: number;
  private readonly minCompletions: number;
  private readonly minRps: number;

  constructor(opts: DemandModelOptions) {
    if (!(opts.demandWindowMs > 0)) throw new RangeError('demandWindowMs must be > 0');
    this.demandWindowMs = opts.demandWindowMs;
    this.latencyTauMs = opts.latencyTauMs ?? opts.demandWindowMs;
    this.minCompletions = opts.minCompletions ?? 50;
    this.minRps = opts.minRps ?? 0.001;
  }

  /** Smoothed completion rate per (gateway node, serving node, service), summed over the gateway's streams. */
  flows(): Array<{ gateway: string; node: string; service: string; rps: number }> {
    const sum = new Map<string, { gateway: string; node: string; service: string; rps: number }>();
    for (const tracks of this.sources.values()) {
      for (const t of tracks.values()) {
        for (const [node, s] of t.localities) {
          const rps = s.completionRps.value ?? 0;
          if (!(rps > 0)) continue;
          const key = `${t.gateway}\u0000${node}\u0000${t.service}`;
          const f = sum.get(key);
          if (f) f.rps += rps;
          else sum.set(key, { gateway: t.gateway, node, service: t.service, rps });
        }
      }
    }
    return [...sum.values()].sort((a, b) => (a.gateway + a.node + a.service < b.gateway + b.node + b.service ? -1 : 1));
  }

  /**
   * One report from `source` (an LRS stream) on `gateway`, with the RTT from the gateway to each
   * node as known now (default 0: all of the response time is spent at the node). Returns the
   * services whose estimates moved.
   */
  observe(
    source: string,
    gateway: string,
    loads: readonly ClusterLoad[],
    nowMs: number,
    rttMs: (gateway: string, node: string) => number = () => 0,
  ): Set<string> {
    let tracks = this.sources.get(source);
    if (!tracks) this.sources.set(source, (tracks = new Map()));
    const touched = new Set<string>();
    const seen = new Set<string>();
    for (const load of loads) {
      seen.add(load.service);
      touched.add(load.service);
      let t = tracks.get(load.service);
      const seconds = load.intervalMs / 1000;
      const issued = load.localities.reduce((a, l) => a + l.issued, 0);
      if (!t) {
        t = {
          gateway,
          service: load.service,
          issuedRps: new RateEstimate({ windowMs: this.demandWindowMs }),
          localities: new Map(),
          lastMs: nowMs,
        };
        tracks.set(load.service, t);
      }
      t.issuedRps.observe(issued, load.intervalMs);
      t.lastMs = nowMs;
      for (const l of load.localities) {
        let s = t.localities.get(l.node);
        if (!s)
          t.localities.set(
            l.node,
            (s = {
              completionRps: new TimeEwma(this.latencyTauMs),
              steadyRps: new TimeEwma(this.latencyTauMs),
              inProgress: new TimeEwma(this.latencyTauMs),
              atNode: new TimeEwma(this.latencyTauMs),
              lastIssuedRps: 0,
              completed: 0,
            }),
          );
        const done = l.succeeded + l.errors;
        const rate = done / seconds;
        s.completed += done;
        s.completionRps.observe(rate, load.intervalMs);
        const previousIssued = s.lastIssuedRps * seconds;
        s.lastIssuedRps = l.issued / seconds;
        if (steady(previousIssued, l.issued, done)) {
          const rtt = rttMs(gateway, l.node);
          s.steadyRps.observe(rate, load.intervalMs);
          s.inProgress.observe(l.inProgress, load.intervalMs);
          s.atNode.observe(l.inProgress - (rate * (Number.isFinite(rtt) && rtt > 0 ? rtt : 0)) / 1000, load.intervalMs);
        }
      }
      for (const [node, s] of t.localities) {
        if (load.localities.some((l) => l.node === node)) continue;
        this.idleLocality(s, load.intervalMs);
      }
    }
    for (const [service, t] of tracks) {
      if (seen.has(service)) continue;
      this.idle(t, nowMs);
      touched.add(service);
      if ((t.issuedRps.value ?? 0) < this.minRps) tracks.delete(service);
    }
    return touched;
  }

  /** Forget a source (its stream ended). Returns the services it contributed to. */
  removeSource(source: string): Set<string> {
    const tracks = this.sources.get(source);
    this.sources.delete(source);
    return new Set(tracks?.keys() ?? []);
  }

  /** Decay tracks that have not been reported for `staleAfterMs` (a silent client). */
  decay(nowMs: number, staleAfterMs: number): Set<string> {
    const touched = new Set<string>();
    for (const tracks of this.sources.values()) {
      for (const [service, t] of tracks) {
        if (nowMs - t.lastMs < staleAfterMs) continue;
        this.idle(t, nowMs);
        touched.add(service);
        if ((t.issuedRps.value ?? 0) < this.minRps) tracks.delete(service);
      }
    }
    return touched;
  }

  private idle(t: Track, nowMs: number): void {
    const elapsed = Math.max(0, nowMs - t.lastMs);
    t.issuedRps.observe(0, elapsed);
    for (const s of t.localities.values()) this.idleLocality(s, elapsed);
    t.lastMs = nowMs;
  }

  private idleLocality(s: LocalityState, elapsedMs: number): void {
    s.completionRps.observe(0, elapsedMs);
    s.steadyRps.observe(0, elapsedMs);
    s.inProgress.observe(0, elapsedMs);
    s.atNode.observe(0, elapsedMs);
    s.lastIssuedRps = 0;
  }

  /**
   * Requests/s of `service` each node was sent by gateways on other nodes, in their last report
   * (unsmoothed: the scheduler extender subtracts it from what the node's pods just served, to
   * see what entered at the node itself).
   */
  inflowFromOtherGateways(service: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const tracks of this.sources.values()) {
      const t = tracks.get(service);
      if (!t) continue;
      for (const [node, s] of t.localities)
        if (node !== t.gateway && s.lastIssuedRps > 0) out.set(node, (out.get(node) ?? 0) + s.lastIssuedRps);
    }
    return out;
  }

  /** Smoothed requests/s per gateway node for `service`. */
  demandByGateway(service: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const tracks of this.sources.values()) {
      const t = tracks.get(service);
      if (!t) continue;
      out.set(t.gateway, (out.get(t.gateway) ?? 0) + (t.issuedRps.value ?? 0));
    }
    return out;
  }

  /**
   * Mean response time (ms) the gateways see per upstream node, by Little's law, with the time of it
   * spent at the node and the completion rate behind it.
   */
  responseTimeByNode(
    service: string,
  ): Map<string, Array<{ gateway: string; responseMs: number; atNodeMs: number; completionRps: number }>> {
    const out = new Map<string, Array<{ gateway: string; responseMs: number; atNodeMs: number; completionRps: number }>>();
    for (const tracks of this.sources.values()) {
      const t = tracks.get(service);
      if (!t) continue;
      for (const [node, s] of t.localities) {
        const lambda = s.steadyRps.value ?? 0;
        const l = s.inProgress.value ?? 0;
        // The first reports' snapshot in-progress counts can be wildly off; wait for a sample.
        if (!(lambda > 0) || s.completed < this.minCompletions) continue;
        let list = out.get(node);
        if (!list) out.set(node, (list = []));
        list.push({
          gateway: t.gateway,
          responseMs: (l / lambda) * 1000,
          atNodeMs: ((s.atNode.value ?? 0) / lambda) * 1000,
          completionRps: lambda,
        });
      }
    }
    return out;
  }

  /**
   * Time spent at each node (service + queueing, ms), combined over gateways by inverse variance;
   * observations at or below zero are left out.
   *
   * In-progress snapshots are about Poisson: their variance is their mean, λ·R for a gateway sending
   * λ requests/s that take R end to end, so the time at the node estimated from them has variance
   * ∝ R/λ. A gateway next to the node (R ≈ the service time) therefore tells far more than one
   * across a 100 ms link, whose estimate is the small difference of two large, noisy numbers — and
   * also carries whatever its link adds beyond the probed RTT (head-of-line waits on a jittery,
   * multiplexed connection).
   *
   * Only gateways are weighed this way, not nodes: across nodes a long R is the sign of a loaded
   * node, the estimate that matters most for its capacity (see the proxima policy's pooling).
   */
  serviceTimeByNode(service: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const [node, list] of this.responseTimeByNode(service)) {
      if (!node) continue;
      let weighted = 0;
      let total = 0;
      for (const o of list) {
        // Less in progress than on the wire means the snapshot in-progress counts missed the requests
        // in flight: the observation says nothing about the node, so it is left out rather than read as 0.
        if (!(o.atNodeMs > 0) || !(o.responseMs > 0)) continue;
        const precision = o.completionRps / o.responseMs;
        weighted += o.atNodeMs * precision;
        total += precision;
      }
      if (total > 0) out.set(node, weighted / total);
    }
    return out;
  }

  /** Requests completed at each node for `service` since tracking began, over all gateways. */
  completedByNode(service: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const tracks of this.sources.values()) {
      const t = tracks.get(service);
      if (!t) continue;
      for (const [node, s] of t.localities) out.set(node, (out.get(node) ?? 0) + s.completed);
    }
    return out;
  }

  /** Services with any tracked demand. */
  services(): Set<string> {
    const out = new Set<string>();
    for (const tracks of this.sources.values()) for (const s of tracks.keys()) out.add(s);
    return out;
  }
}
