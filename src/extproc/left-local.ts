import type { Candidate, PickRule } from './picker.js';

/**
 * The picks that left the gateway's node although a pod there had a free slot, for /debug: how
 * many, and the latest few with the numbers the picker compared (expected ms = RTT + service time ×
 * queue factor; choice ms = expected + the wait a queued request adds to those behind it, what the
 * rule compares, plus for the chosen pod the locality premium it paid). At low load there should be
 * none unless the local pod got slow.
 */
export interface LeftLocalRecord {
  readonly atMs: number;
  readonly gateway: string;
  readonly rule: PickRule;
  /** What leaving cost on top of the chosen pod's choice ms: ΔRTT × (1 − the nearest pods' utilisation). */
  readonly chosenPremiumMs: number;
  readonly chosen: CandidateView;
  readonly local: CandidateView;
}

export interface CandidateView {
  readonly endpoint: string;
  readonly node: string;
  readonly inflight: number;
  readonly atPod: number;
  readonly capacity: number;
  readonly rttMs: number;
  readonly serviceMs: number;
  readonly expectedMs: number;
  readonly choiceMs: number;
}

const view = (c: Candidate): CandidateView => ({
  endpoint: c.key,
  node: c.endpoint.node,
  inflight: c.inflight,
  atPod: round(c.atPod),
  capacity: c.endpoint.capacity,
  rttMs: round(c.rttMs),
  serviceMs: round(c.costMs),
  expectedMs: round(c.expectedMs),
  choiceMs: round(c.choiceMs),
});
const round = (x: number): number => Math.round(x * 100) / 100;

export class LeftLocalLog {
  count = 0;
  private readonly ring: LeftLocalRecord[] = [];

  constructor(private readonly keep = 32) {}

  add(atMs: number, gateway: string, rule: PickRule, chosen: Candidate, local: Candidate, chosenPremiumMs: number): void {
    this.count++;
    if (this.ring.length >= this.keep) this.ring.shift();
    this.ring.push({
      atMs: Math.round(atMs),
      gateway,
      rule,
      chosenPremiumMs: round(chosenPremiumMs),
      chosen: view(chosen),
      local: view(local),
    });
  }

  recent(): readonly LeftLocalRecord[] {
    return [...this.ring];
  }
}
