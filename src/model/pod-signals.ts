/**
 * What the pods of a service on a node measure themselves (Knative queue-proxy, scraped by the node
 * agent), per (service, node), with the time each value was measured. Plain data, no I/O.
 *
 * A round in which no request completed carries no latency: the last measured latency is kept with
 * its own time (`latencyAtMs`), so an idle node keeps the service time it last showed instead of
 * falling back to a default.
 */

export type PodLatencySource = 'usermetric' | 'autometric';

export interface PodSignal {
  readonly pods: number;
  readonly podsFailed: number;
  /** Requests/s completed by the pods. */
  readonly requestRps: number;
  /** Time-averaged requests in the pods (queued included), summed over pods. */
  readonly concurrency: number;
  /** Requests in the queue-proxies at the last scrape. */
  readonly queueDepth: number;
  /** Requests/s over the window of `requestLatencyMs` (last measured). */
  readonly windowRequestRps?: number;
  /** Mean time in a pod, queue wait included, ms (last measured). */
  readonly requestLatencyMs?: number;
  /** Mean time in the user container, ms (last measured). */
  readonly appLatencyMs?: number;
  /**
   * FaaSt's P_j: per pod request latency over 10 s, averaged over pods, ms, as of this row only: FaaSt
   * keeps no memory, and a window without completed requests is its 0 (absent here).
   */
  readonly windowRequestLatencyMs?: number;
  readonly latencySource?: PodLatencySource;
  /** When the row arrived (control-plane clock). */
  readonly atMs: number;
  /** When the latencies above were measured. */
  readonly latencyAtMs?: number;
}

export type PodSignalUpdate = Omit<PodSignal, 'latencyAtMs'>;

/** Relative and absolute moves below which an update is stored but not announced (no policy rerun). */
const CHANGE_RATIO = 0.05;
const CHANGE_MS = 0.5;

function moved(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a !== b;
  return Math.abs(a - b) > Math.max(CHANGE_MS, CHANGE_RATIO * Math.abs(a));
}

export class PodSignalTable {
  private readonly byService = new Map<string, Map<string, PodSignal & { announced: PodSignal }>>();

  /** Rows older than this are not fresh (the agent stopped reporting). */
  ttlMs = 10_000;
  /** Latencies older than this are not used even when rows keep coming (a long-idle node). */
  latencyTtlMs = 300_000;

  /**
   * Record one row; true when it moved enough to matter to a policy (new, was stale, pod count
   * changed, or a latency moved more than 5 % and 0.5 ms since the last announced value).
   */
  set(service: string, node: string, u: PodSignalUpdate): boolean {
    let row = this.byService.get(service);
    if (!row) this.byService.set(service, (row = new Map()));
    const old = row.get(node);
    const hasLatency = u.requestLatencyMs !== undefined || u.appLatencyMs !== undefined;
    const keep = !hasLatency && old ? old : undefined;
    const next: PodSignal = {
      ...u,
      ...(keep?.requestLatencyMs !== undefined ? { requestLatencyMs: keep.requestLatencyMs } : {}),
      ...(keep?.windowRequestRps !== undefined ? { windowRequestRps: keep.windowRequestRps } : {}),
      ...(keep?.appLatencyMs !== undefined ? { appLatencyMs: keep.appLatencyMs } : {}),
      ...(keep?.latencySource !== undefined ? { latencySource: keep.latencySource } : {}),
      ...(hasLatency ? { latencyAtMs: u.atMs } : keep?.latencyAtMs !== undefined ? { latencyAtMs: keep.latencyAtMs } : {}),
    };
    const a = old?.announced;
    const changed =
      !a ||
      u.atMs - a.atMs > this.ttlMs ||
      a.pods !== next.pods ||
      moved(a.appLatencyMs, next.appLatencyMs) ||
      moved(a.requestLatencyMs, next.requestLatencyMs) ||
      moved(a.windowRequestLatencyMs, next.windowRequestLatencyMs);
    row.set(node, { ...next, announced: changed ? next : a });
    return changed;
  }

  /** The row for (service, node) if fresh at `nowMs`. */
  get(service: string, node: string, nowMs: number): PodSignal | undefined {
    const s = this.byService.get(service)?.get(node);
    if (!s || nowMs - s.atMs > this.ttlMs) return undefined;
    const { announced: _announced, ...signal } = s;
    if (signal.latencyAtMs !== undefined && nowMs - signal.latencyAtMs > this.latencyTtlMs) {
      const {
        requestLatencyMs: _r,
        appLatencyMs: _a,
        windowRequestLatencyMs: _w,
        windowRequestRps: _wr,
        latencySource: _s,
        latencyAtMs: _t,
        ...rest
      } = signal;
      return rest;
    }
    return signal;
  }

  /** Every fresh row of `service` at `nowMs`, by node. */
  rowsOf(service: string, nowMs: number): Map<string, PodSignal> {
    const out = new Map<string, PodSignal>();
    for (const node of this.byService.get(service)?.keys() ?? []) {
      const s = this.get(service, node, nowMs);
      if (s) out.set(node, s);
    }
    return out;
  }

  delete(service: string): void {
    this.byService.delete(service);
  }
}
