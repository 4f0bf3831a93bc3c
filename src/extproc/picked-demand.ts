import type { ClusterLoad, LocalityLoad } from '../lrs/parse.js';

/**
 * The requests ext_proc routed, as LRS would have reported them (pure). A request that ext_proc
 * routes goes to the gateway's ORIGINAL_DST cluster, which reports no load: with the filter on, LRS
 * only sees the requests that fell back to the EDS weights, and the demand the assignment is
 * solved for drops to a fraction of the real one (in the 50-user demo, 0–170 of 500 requests/s: the
 * gateways got all-local assignments, and the picker, which never leaves the assignment, piled the
 * entry pods up). The server counts each routed request per (gateway node, service, endpoint node)
 * and hands the counts over per interval, in LRS's shape, as one more reporting source per gateway.
 */

export interface LocalityCount {
  issued: number;
  completed: number;
  inProgress: number;
}

export class PickedDemand {
  /** gateway → service → endpoint node → counts since the last flush (in progress: now). */
  private readonly counts = new Map<string, Map<string, Map<string, LocalityCount>>>();

  /** A request routed from `gateway` to an endpoint on `node`: the returned count is released with `done`. */
  picked(gateway: string, service: string, node: string): LocalityCount {
    let byService = this.counts.get(gateway);
    if (!byService) this.counts.set(gateway, (byService = new Map()));
    let byNode = byService.get(service);
    if (!byNode) byService.set(service, (byNode = new Map()));
    let c = byNode.get(node);
    if (!c) byNode.set(node, (c = { issued: 0, completed: 0, inProgress: 0 }));
    c.issued++;
    c.inProgress++;
    return c;
  }

  /** The request counted in `c` is over. */
  static done(c: LocalityCount): void {
    c.completed++;
    c.inProgress = Math.max(0, c.inProgress - 1);
  }

  /**
   * The request counted in `c` was not routed by the pick after all (the gateway gave up waiting
   * and followed the EDS weights, which its LRS reports): it leaves the counts. One already flushed
   * as issued cannot be taken back; it is closed as completed instead.
   */
  static withdraw(c: LocalityCount): void {
    if (c.issued > 0) c.issued--;
    else c.completed++;
    c.inProgress = Math.max(0, c.inProgress - 1);
  }

  /**
   * Each gateway's loads over the last `intervalMs` (LRS `ClusterStats` as parsed), counters reset.
   * A gateway with nothing routed and nothing in progress reports no cluster once (as gRPC and
   * Envoy skip idle clusters: the learner reads that as no requests) and is forgotten after that.
   */
  flush(intervalMs: number): Map<string, ClusterLoad[]> {
    const out = new Map<string, ClusterLoad[]>();
    for (const [gateway, byService] of this.counts) {
      const loads: ClusterLoad[] = [];
      for (const [service, byNode] of byService) {
        const localities: LocalityLoad[] = [];
        for (const [node, c] of byNode) {
          if (c.issued > 0 || c.completed > 0 || c.inProgress > 0)
            localities.push({ node, issued: c.issued, succeeded: c.completed, errors: 0, inProgress: c.inProgress });
          c.issued = 0;
          c.completed = 0;
          if (c.inProgress === 0) byNode.delete(node);
        }
        if (localities.length > 0) loads.push({ service, intervalMs, localities });
        if (byNode.size === 0) byService.delete(service);
      }
      out.set(gateway, loads);
      // Kept for one more flush after its last request ended, so that one reports it idle.
      if (loads.length === 0) this.counts.delete(gateway);
    }
    return out;
  }
}
