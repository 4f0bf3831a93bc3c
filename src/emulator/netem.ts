import { standardNormal, type Rng } from '../util/rng.js';

/**
 * User-space stand-in for netem (the kernel here has none): one-way delays between emulated nodes
 * and an order-preserving delay line, so jitter never reorders bytes of one TCP stream.
 */
export interface LinkDelay {
  /** Mean round-trip time in ms; each direction gets half. */
  readonly rttMs: number;
  /** Standard deviation of the RTT in ms (applied half per direction). */
  readonly jitterMs: number;
}

export interface DelayMatrix {
  /** Delay from node `from` to node `to`; undefined for the same node or an unknown pair. */
  link(from: string, to: string): LinkDelay | undefined;
}

/** One-way delay in ms for a packet from `from` to `to`: half the RTT plus half-scaled jitter, never negative. */
export function oneWayDelayMs(matrix: DelayMatrix, from: string, to: string, rng: Rng): number {
  const l = matrix.link(from, to);
  if (!l || l.rttMs <= 0) return 0;
  return Math.max(0, l.rttMs / 2 + (l.jitterMs / 2) * standardNormal(rng));
}

/** A mutable delay matrix that the demo can change while it runs (scripted link steps). */
export class MutableDelayMatrix implements DelayMatrix {
  private readonly links = new Map<string, LinkDelay>();

  set(from: string, to: string, delay: LinkDelay, symmetric = true): void {
    this.links.set(`${from}>${to}`, delay);
    if (symmetric) this.links.set(`${to}>${from}`, delay);
  }

  link(from: string, to: string): LinkDelay | undefined {
    if (from === to) return undefined;
    return this.links.get(`${from}>${to}`);
  }
}

/**
 * Releases items no earlier than `now + delay` and never before an item queued earlier (FIFO), as a
 * link with a queue would.
 */
export class DelayLine {
  private lastReleaseMs = 0;

  /** Absolute release time for an item arriving at `nowMs` with `delayMs` of delay. */
  releaseAt(nowMs: number, delayMs: number): number {
    const at = Math.max(this.lastReleaseMs, nowMs + delayMs);
    this.lastReleaseMs = at;
    return at;
  }
}
