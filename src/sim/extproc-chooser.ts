import type { Endpoint } from '../model/types.js';
import { LoadTracker } from '../extproc/load-tracker.js';
import { edsDraw, endpointKey, pick, unpickedSlot, type LoadView } from '../extproc/picker.js';
import type { Slot } from '../extproc/load-tracker.js';
import { exponential, type Rng } from '../util/rng.js';
import type { EndpointChooser, SimPodView } from './simulator.js';

/**
 * The ext_proc picker (src/extproc/picker.ts) as the simulator's per-request chooser: one picker for
 * every gateway, as one ext_proc server serves them all. It knows what the server knows: its own
 * in-flight counts (a slot from the pick until the response is back at the gateway, where Envoy
 * ends the stream) with a latency sample at release, the mean RTTs (probes), and — with
 * `podServiceTime` — each pod's service time as its queue-proxy reports it (fresh, the true mean).
 * No decision delay and, unless `releaseStalls`, no stream-end lag: the picking rule alone, against
 * the EDS weights.
 */
export interface ExtProcChooserOptions {
  /** Mean RTT between two nodes (what the probes measure). */
  rttMs(from: string, to: string): number;
  /** A node's mean service time: the model's prior, and the pods' own signal when `podServiceTime`. */
  serviceMs(node: string): number;
  readonly podServiceTime: boolean;
  readonly rng: Rng;
  /**
   * Share of requests whose decision comes too late (live: 4-12 % at 50 users): the gateway sends
   * them by the EDS weights. Default 0.
   */
  readonly fallbackShare?: number;
  /**
   * Whether the picker counts those where the EDS weights would draw them, until their expected
   * end (as ExtProcServer does for an abandoned pick), or does not see them at all.
   */
  readonly countFallbacks?: boolean;
  /**
   * Stalls of the release path (live: a busy gateway or server reads the stream end late): they start
   * `meanGapMs` apart on average (exponential gaps, drawn from `rng`) and last `stallMs`; a response
   * that reaches the gateway during one frees its slot, with its latency sample, only when it ends.
   * The requests themselves are not delayed: only what the picker's counts see.
   */
  readonly releaseStalls?: ReleaseStalls;
}

export interface ReleaseStalls {
  readonly meanGapMs: number;
  readonly stallMs: number;
  readonly rng: Rng;
}

export function extprocChooser(o: ExtProcChooserOptions): EndpointChooser {
  const tracker = new LoadTracker();
  const nodeOf = new Map<string, string>();
  const load: LoadView = o.podServiceTime
    ? {
        inflight: (k) => tracker.inflight(k),
        atPod: (k, now) => tracker.atPod(k, now),
        costMs: (k) => o.serviceMs(nodeOf.get(k)!),
        picksPerMs: (k, now) => tracker.picksPerMs(k, now),
        extraHoldMs: (k) => tracker.extraHoldMs(k),
      }
    : tracker;
  let endpoints: Endpoint[] = [];
  let builtFor: readonly SimPodView[] | undefined;
  const fallbackShare = o.fallbackShare ?? 0;
  /**
   * Slots freed later, lazily at the next choice: counted fallbacks when they are expected to be done
   * (no sample), releases held up by a stall when it ends (with their sample).
   */
  const deferred: { slot: Slot; endMs: number; sample: boolean }[] = [];
  const stalls = o.releaseStalls;
  let stallStart = stalls ? exponential(stalls.rng, stalls.meanGapMs) : Infinity;
  let stallEnd = stalls ? stallStart + stalls.stallMs : Infinity;
  const releaseAt = (slot: Slot, t: number): void => {
    while (stalls && stallEnd <= t) {
      stallStart = stallEnd + exponential(stalls.rng, stalls.meanGapMs);
      stallEnd = stallStart + stalls.stallMs;
    }
    if (t >= stallStart) deferred.push({ slot, endMs: stallEnd, sample: true });
    else tracker.release(slot, t, true);
  };
  return {
    choose(nowMs, gateway, assignment, pods) {
      if (builtFor !== pods) {
        builtFor = pods;
        endpoints = pods.map((p) => ({ address: `sim-${p.node}`, port: p.pod + 1, node: p.node, ready: true, capacity: p.slots }));
        for (const e of endpoints) nodeOf.set(endpointKey(e), e.node);
      }
      if (deferred.length > 0) {
        // In the order they were deferred: a stall frees its slots in the order the answers came.
        let kept = 0;
        for (const d of deferred) {
          if (d.endMs <= nowMs) tracker.release(d.slot, d.endMs, d.sample);
          else deferred[kept++] = d;
        }
        deferred.length = kept;
      }
      if (fallbackShare > 0 && o.rng() < fallbackShare) {
        const e = edsDraw(assignment, endpoints, o.rng);
        if (!e) return undefined;
        if (o.countFallbacks) {
          const u = unpickedSlot(load, e, nowMs, o.rttMs(gateway, e.node), o.serviceMs(e.node));
          const slot = tracker.acquire(u.key, nowMs, u.rttMs, u.queueFactor, u.atPodShare, u.costMs);
          deferred.push({ slot, endMs: nowMs + u.holdMs, sample: false });
        }
        return { node: e.node, pod: e.port - 1, done: () => undefined };
      }
      const r = pick({
        gateway,
        assignment,
        endpoints,
        load,
        rttMs: o.rttMs,
        priorMs: o.serviceMs,
        nowMs,
        rng: o.rng,
      });
      if (r.kind !== 'picked') return undefined;
      const c = r.pick;
      const slot = tracker.acquire(c.key, nowMs, c.rttMs, c.queueFactor, c.atPodShare, c.costMs);
      return { node: c.endpoint.node, pod: c.endpoint.port - 1, done: (t) => releaseAt(slot, t) };
    },
  };
}
