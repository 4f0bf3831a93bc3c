/**
 * The activator's pod choice (pure), as knative/serving pkg/activator/net/lb_policy.go and
 * throttler.go (newRevisionThrottler) define it: containerConcurrency 0 → the less loaded of two
 * random pods (ties broken at random); ≤ 3 → the first pod with a free slot; else round robin over
 * pods with a free slot. Pods are sorted by address (throttler.go sorts podTrackers by dest). No
 * notion of distance. `undefined` = no pod can take the request now: the activator queues it.
 */
import type { Rng } from '../util/rng.js';

export interface PodTracker {
  /** `ip:port`. */
  readonly dest: string;
  /** Requests the activator has in flight on this pod (held for the whole proxied request). */
  inFlight: number;
}

export type LbPolicy = (trackers: readonly PodTracker[]) => PodTracker | undefined;

export function lbPolicyFor(containerConcurrency: number, rng: Rng): LbPolicy {
  if (containerConcurrency === 0) return (t) => randomChoice2(t, rng);
  if (containerConcurrency <= 3) return (t) => t.find((x) => x.inFlight < containerConcurrency);
  let next = 0;
  return (t) => {
    if (next >= t.length) next = 0;
    for (let i = 0; i < t.length; i++) {
      const p = (next + i) % t.length;
      if (t[p]!.inFlight < containerConcurrency) {
        next = p + 1;
        return t[p];
      }
    }
    return undefined;
  };
}

function randomChoice2(t: readonly PodTracker[], rng: Rng): PodTracker | undefined {
  if (t.length <= 1) return t[0];
  let r1 = 0;
  let r2 = 1;
  if (t.length > 2) {
    r1 = Math.floor(rng() * t.length);
    r2 = Math.floor(rng() * (t.length - 1));
    if (r2 >= r1) r2++;
  }
  const a = t[r1]!;
  const b = t[r2]!;
  if (a.inFlight !== b.inFlight) return a.inFlight < b.inFlight ? a : b;
  return rng() < 0.5 ? a : b;
}
