import type { Endpoint } from '../model/types.js';
import { LoadTracker } from '../extproc/load-tracker.js';
import { endpointKey, pick, type LoadView } from '../extproc/picker.js';
import type { Rng } from '../util/rng.js';
import type { EndpointChooser, SimPodView } from './simulator.js';

/**
 * The ext_proc picker (src/extproc/picker.ts) as the simulator's per-request chooser: one picker for
 * every gateway, as one ext_proc server serves them all. It knows what the server knows: its own
 * in-flight counts (a slot from the pick until the response is back at the gateway, where Envoy
 * ends the stream) with a latency sample at release, the mean RTTs (probes), and — with
 * `podServiceTime` — each pod's service time as its queue-proxy reports it (fresh, the true mean).
 * No decision delay and no stream-end lag: the picking rule alone, against the EDS weights.
 */
export interface ExtProcChooserOptions {
  /** Mean RTT between two nodes (what the probes measure). */
  rttMs(from: string, to: string): number;
  /** A node's mean service time: the model's prior, and the pods' own signal when `podServiceTime`. */
  serviceMs(node: string): number;
  readonly podServiceTime: boolean;
  readonly rng: Rng;
}

export function extprocChooser(o: ExtProcChooserOptions): EndpointChooser {
  const tracker = new LoadTracker();
  const nodeOf = new Map<string, string>();
  const load: LoadView = o.podServiceTime
    ? {
        inflight: (k) => tracker.inflight(k),
        atPod: (k) => tracker.atPod(k),
        costMs: (k) => o.serviceMs(nodeOf.get(k)!),
        picksPerMs: (k, now) => tracker.picksPerMs(k, now),
        extraHoldMs: (k) => tracker.extraHoldMs(k),
      }
    : tracker;
  let endpoints: Endpoint[] = [];
  let builtFor: readonly SimPodView[] | undefined;
  return {
    choose(nowMs, gateway, assignment, pods) {
      if (builtFor !== pods) {
        builtFor = pods;
        endpoints = pods.map((p) => ({ address: `sim-${p.node}`, port: p.pod + 1, node: p.node, ready: true, capacity: p.slots }));
        for (const e of endpoints) nodeOf.set(endpointKey(e), e.node);
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
      return { node: c.endpoint.node, pod: c.endpoint.port - 1, done: (t) => void tracker.release(slot, t, true) };
    },
  };
}
