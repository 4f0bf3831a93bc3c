/**
 * Server-wide and per-stream limits on response bytes written but not yet flushed to the socket.
 * A stream over its limit (a slow client) or any stream while the server is over its limit (a
 * thousand gateways resyncing at once) defers its pushes; a deferred push is recomputed from the
 * diff when there is room again, so intermediate versions coalesce instead of piling up in memory.
 */
export interface FlowParticipant {
  outstandingBytes: number;
  /** Send whatever became due while the stream was waiting. */
  resume(): void;
}

export interface FlowLimits {
  /** All streams together (default 64 MiB). */
  readonly maxOutstandingBytes: number;
  /** One stream (default 4 MiB); one response larger than this still goes out when nothing is pending. */
  readonly maxStreamOutstandingBytes: number;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = Object.freeze({
  maxOutstandingBytes: 64 * 1024 * 1024,
  maxStreamOutstandingBytes: 4 * 1024 * 1024,
});

export class FlowControl {
  outstandingBytes = 0;
  private readonly waiting = new Set<FlowParticipant>();
  private draining = false;

  constructor(readonly limits: FlowLimits = DEFAULT_FLOW_LIMITS) {}

  blocked(p: FlowParticipant): boolean {
    return (
      (p.outstandingBytes > 0 && p.outstandingBytes >= this.limits.maxStreamOutstandingBytes) ||
      (this.outstandingBytes > 0 && this.outstandingBytes >= this.limits.maxOutstandingBytes)
    );
  }

  wait(p: FlowParticipant): void {
    this.waiting.add(p);
  }

  forget(p: FlowParticipant): void {
    this.waiting.delete(p);
    this.outstandingBytes -= p.outstandingBytes;
    p.outstandingBytes = 0;
    this.drain();
  }

  /** Account `bytes` for `p`; returns the release to call once they are flushed (idempotent). */
  track(p: FlowParticipant, bytes: number): () => void {
    p.outstandingBytes += bytes;
    this.outstandingBytes += bytes;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (p.outstandingBytes < bytes) return; // already forgotten (stream closed)
      p.outstandingBytes -= bytes;
      this.outstandingBytes -= bytes;
      this.drain();
    };
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  private drain(): void {
    if (this.draining || this.waiting.size === 0) return;
    this.draining = true;
    try {
      for (const p of [...this.waiting]) {
        if (this.outstandingBytes >= this.limits.maxOutstandingBytes) break;
        if (this.blocked(p)) continue;
        this.waiting.delete(p);
        p.resume();
      }
    } finally {
      this.draining = false;
    }
  }
}
