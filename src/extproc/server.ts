import { performance } from 'node:perf_hooks';
import type { AssignmentEngine } from '../engine/assignments.js';
import { UNKNOWN_GATEWAY } from '../engine/assignments.js';
import type { Logger } from '../log.js';
import type { ModelStore } from '../model/store.js';
import { continueReply, decodeRequest, destinationReply, HEADER_NODE, immediateReply, type DecodedRequest, type Phase } from './codec.js';
import { LoadTracker, type Slot } from './load-tracker.js';
import { createExtProcMetrics, type DecisionOutcome, type ExtProcMetrics, type SlotRelease } from './metrics.js';
import { edsDraw, endpointKey, pick, unpickedSlot, type LoadView, type PickRule } from './picker.js';
import { withPodSignals } from './pod-signals.js';
import { ServiceResolver } from './resolve.js';
import type { NodeAuthorizer } from '../tls/authorizer.js';
import { LeftLocalLog } from './left-local.js';
import { PickedDemand, type LocalityCount } from './picked-demand.js';
import {
  createH2Transport,
  type GrpcStreamHandler,
  type H2Call,
  type H2Transport,
  type H2TransportOptions,
  type StreamEnd,
} from '../net/grpc-h2.js';

/**
 * `envoy.service.ext_proc.v3.ExternalProcessor/Process`: one bidirectional stream per HTTP request.
 * request_headers → pick an endpoint and answer with `x-proxima-destination` (+ fallbacks) and
 * `envoy.lb` metadata. The endpoint's in-flight slot is freed, with the request's latency as a
 * sample, on response_headers (filter with response_header_mode SEND) or when the client half-closes
 * the stream (Envoy closes it when the HTTP request is done: the shipped filter skips response_headers); a
 * cancelled, failed or forgotten stream frees it too, at the latest after `slotTimeoutMs`.
 * Fail-open by default: anything we cannot route gets a plain CONTINUE and Envoy's EDS weights decide.
 */

export type { ExtProcServerOptions, ExtProcSnapshot } from './server-options.js';
import type { ExtProcServerOptions, ExtProcSnapshot } from './server-options.js';

export const EXTPROC_METHOD_PATH = '/envoy.service.ext_proc.v3.ExternalProcessor/Process';
export const DEFAULT_SLOT_TIMEOUT_MS = 30_000;

/**
 * A stream that ends sooner after the decision than the trip to the picked endpoint plus this share
 * of its service time was not routed by the pick: the gateway gave up waiting (Envoy's
 * message_timeout with failure_mode_allow closes the stream at once: envoyproxy/envoy
 * source/extensions/filters/http/ext_proc/ext_proc.cc, Filter::onMessageTimeout → closeStream) and
 * sent the request by the EDS weights, or its client went away. Its slot is freed without a latency
 * sample (the time says nothing about the pod) and it leaves the routed-demand counts (the gateway's
 * LRS reports the request). A tenth: a service time with a coefficient of variation of 0.5 (gamma)
 * is that short once in about a thousand requests.
 */
export const ABANDONED_SERVICE_SHARE = 0.1;

interface StreamState {
  /** 0: waiting for request_headers; 1: request answered; 2: response_headers seen. */
  phase: 0 | 1 | 2;
  slot: Slot | undefined;
  /** The request's entry in the routed-demand counts (released with the slot). */
  demand: LocalityCount | undefined;
  /** Who asked for what (set with the slot): where the EDS weights send it if the gateway gives up on us. */
  gateway: string;
  service: string;
  readonly call: H2Call;
}

export class ExtProcServer implements GrpcStreamHandler<StreamState> {
  readonly metrics: ExtProcMetrics;
  readonly tracker: LoadTracker;
  private readonly load: LoadView;
  private readonly store: ModelStore;
  private readonly engine: AssignmentEngine;
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private readonly rng: () => number;
  private readonly failClosed: boolean;
  private readonly shed: boolean;
  private readonly maxFallbacks: number;
  private readonly slotTimeoutMs: number;
  private readonly onRequest: ((gateway: string, service: string) => void) | undefined;
  private readonly authorizer: NodeAuthorizer | undefined;
  private readonly onDecision: ((seconds: number) => void) | undefined;
  private readonly resolver: ServiceResolver;
  private readonly streams = new Set<StreamState>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly demandTimer: NodeJS.Timeout | undefined;
  private readonly pickedDemand: PickedDemand | undefined;
  private readonly leftLocal = new LeftLocalLog();
  private readonly ruleCounts: Record<PickRule, number> = { fastest: 0, queued: 0, saturated: 0 };
  private closed = false;
  private abandoned = 0;
  private fallbacksCounted = 0;
  /** Slots of requests the gateways routed by the EDS weights, each freed by its timer. */
  private readonly fallbackSlots = new Map<Slot, NodeJS.Timeout>();
  private prunedGeneration = -1;
  // prom-client hashes a label object on every inc(); the children are resolved once here.
  private readonly decisionCount: Record<DecisionOutcome, { inc(): void }>;
  private readonly messageCount: Record<DecodedRequest['type'], { inc(): void }>;
  private readonly releaseCount: Record<SlotRelease, { inc(): void }>;
  private readonly localPicks: { inc(): void };
  private readonly remotePicks: { inc(): void };

  constructor(opts: ExtProcServerOptions) {
    this.store = opts.store;
    this.engine = opts.engine;
    this.log = opts.log;
    this.nowMs = opts.nowMs ?? (() => performance.timeOrigin + performance.now());
    this.rng = opts.rng ?? Math.random;
    this.failClosed = opts.failClosed ?? false;
    this.shed = opts.shedWhenSaturated ?? false;
    this.maxFallbacks = opts.maxFallbacks ?? 3;
    this.slotTimeoutMs = opts.slotTimeoutMs ?? DEFAULT_SLOT_TIMEOUT_MS;
    if (!(this.slotTimeoutMs > 0)) throw new RangeError(`slotTimeoutMs must be > 0, got ${this.slotTimeoutMs}`);
    this.onRequest = opts.onRequest;
    this.authorizer = opts.authorizer;
    this.onDecision = opts.onDecision;
    this.tracker = new LoadTracker({ decayMs: opts.ewmaDecayMs ?? 10_000 });
    this.load = opts.podLoad ? withPodSignals(this.tracker, opts.podLoad) : this.tracker;
    this.resolver = new ServiceResolver(opts.store);
    this.metrics = createExtProcMetrics(opts.registry, () => this.tracker.snapshot(this.nowMs()));
    const d = this.metrics.decisions;
    this.decisionCount = {
      picked: d.labels('picked'),
      no_service: d.labels('no_service'),
      no_candidate: d.labels('no_candidate'),
      shed: d.labels('shed'),
      fail_closed: d.labels('fail_closed'),
      malformed: d.labels('malformed'),
    };
    const m = this.metrics.messages;
    this.messageCount = {
      request_headers: m.labels('request_headers'),
      response_headers: m.labels('response_headers'),
      request_body: m.labels('request_body'),
      response_body: m.labels('response_body'),
      request_trailers: m.labels('request_trailers'),
      response_trailers: m.labels('response_trailers'),
      invalid: m.labels('invalid'),
      empty: m.labels('empty'),
    };
    const r = this.metrics.slotsReleased;
    this.releaseCount = {
      response_headers: r.labels('response_headers'),
      end: r.labels('end'),
      cancelled: r.labels('cancelled'),
      error: r.labels('error'),
      close: r.labels('close'),
      timeout: r.labels('timeout'),
      abandoned: r.labels('abandoned'),
      fallback: r.labels('fallback'),
    };
    this.localPicks = this.metrics.picks.labels('local');
    this.remotePicks = this.metrics.picks.labels('remote');
    // One sweep for all slots instead of a timer per stream.
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, Math.max(10, this.slotTimeoutMs / 4)));
    this.sweeper.unref();
    const onDemand = opts.onDemand;
    if (onDemand) {
      const picked = (this.pickedDemand = new PickedDemand());
      const intervalMs = opts.demandIntervalMs ?? 1000;
      if (!(intervalMs > 0)) throw new RangeError(`demandIntervalMs must be > 0, got ${intervalMs}`);
      // The counts cover the time since the last flush, which a busy event loop stretches.
      let lastMs = this.nowMs();
      this.demandTimer = setInterval(() => {
        const now = this.nowMs();
        const elapsedMs = Math.max(1, now - lastMs);
        lastMs = now;
        for (const [gateway, loads] of picked.flush(elapsedMs)) onDemand(gateway, loads);
      }, intervalMs);
      this.demandTimer.unref();
    }
  }

  /**
   * The gRPC transport serving Process (node:http2, see net/grpc-h2.ts); hand it the sockets a
   * front listener accepts. One per listener; `close()` of this server ends its streams.
   */
  transport(opts: H2TransportOptions): H2Transport {
    return createH2Transport(opts, new Map([[EXTPROC_METHOD_PATH, this]]));
  }

  snapshot(): ExtProcSnapshot {
    return {
      streams: this.streams.size,
      inflightTotal: this.tracker.totalInflight(),
      endpoints: this.tracker.snapshot(this.nowMs()),
      failClosed: this.failClosed,
      shedWhenSaturated: this.shed,
      slotTimeoutMs: this.slotTimeoutMs,
      rules: { ...this.ruleCounts },
      leftLocalWithRoom: this.leftLocal.count,
      leftLocalRecent: this.leftLocal.recent(),
      abandoned: this.abandoned,
      fallbacksCounted: this.fallbacksCounted,
    };
  }

  /** End every open stream and free its slot. The transport (and its listener) belong to the caller. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    if (this.demandTimer) clearInterval(this.demandTimer);
    for (const [slot, timer] of this.fallbackSlots) {
      clearTimeout(timer);
      this.tracker.release(slot, this.nowMs());
    }
    this.fallbackSlots.clear();
    for (const s of [...this.streams]) {
      this.finish(s, 'close');
      try {
        s.call.end();
      } catch {
        // already closed
      }
    }
  }

  /** @internal (transport) A new Process stream. */
  open(call: H2Call): StreamState {
    const state: StreamState = { phase: 0, slot: undefined, demand: undefined, gateway: '', service: '', call };
    if (this.closed) {
      call.end();
      return state;
    }
    this.streams.add(state);
    this.metrics.streamsActive.inc();
    return state;
  }

  /** @internal (transport) One ProcessingRequest; decodes only the headers a decision reads. */
  message(state: StreamState, buf: Buffer): void {
    if (this.closed) return;
    try {
      this.onMessage(state, decodeRequest(buf, this.resolver.headerNames()));
    } catch (err) {
      // A bug must not take the gateway's request down: answer CONTINUE for what Envoy waits on.
      this.log.error({ err }, 'ext_proc message handling failed');
      this.decisionCount.malformed.inc();
      this.write(state, continueReply(state.phase === 0 ? 'request_headers' : 'response_headers'));
    }
  }

  private write(state: StreamState, reply: Buffer): void {
    if (state.call.writable) state.call.write(reply);
  }

  private release(state: StreamState, how: SlotRelease, sample: boolean, nowMs = this.nowMs()): void {
    if (!state.slot || !this.tracker.release(state.slot, nowMs, sample)) return;
    this.releaseCount[how].inc();
    if (!state.demand) return;
    if (how === 'abandoned') PickedDemand.withdraw(state.demand);
    else PickedDemand.done(state.demand);
  }

  /**
   * @internal (transport) Free the slot (if still held) and forget the stream. Safe to call
   * many times. A stream that ends or is cancelled after its request was answered is Envoy closing
   * it at the end of the HTTP request (response_headers skipped): its latency is a sample — unless
   * it ended too soon for that (see `ABANDONED_SERVICE_SHARE`).
   */
  finish(state: StreamState, how: StreamEnd): void {
    const answered = state.phase === 1 && (how === 'end' || how === 'cancelled');
    const slot = state.slot;
    const now = this.nowMs();
    if (answered && slot && !slot.released && now - slot.startedMs < slot.rttMs + ABANDONED_SERVICE_SHARE * slot.costMs) {
      this.abandoned++;
      this.release(state, 'abandoned', false, now);
      this.countFallback(state.gateway, state.service, now);
    } else this.release(state, how, answered, now);
    if (this.streams.delete(state)) this.metrics.streamsActive.dec();
  }

  /**
   * A request the gateway routed by the EDS weights (it gave up waiting for our pick) still loads a
   * pod: counted in flight on the endpoint those weights would draw, with that endpoint's RTT and
   * expected time there, and freed when it is expected to be done. Without it the picker saw no
   * load at all from the 4-12 % of requests that fell back in the 50-user demo, and sent more to
   * the pods they were queueing at.
   */
  private countFallback(gateway: string, serviceName: string, now: number): void {
    if (this.closed) return;
    const service = this.store.service(serviceName);
    const e = service && edsDraw(this.engine.get(serviceName, gateway), service.endpoints, this.rng);
    if (!e) return;
    const prior = this.store.serviceTimeMs(serviceName, e.node) ?? this.store.defaults.serviceTimeMs;
    const u = unpickedSlot(this.load, e, now, this.store.rttMs(gateway, e.node, now), prior);
    const slot = this.tracker.acquire(u.key, now, u.rttMs, u.queueFactor, u.atPodShare, u.costMs);
    this.fallbacksCounted++;
    const timer = setTimeout(() => {
      this.fallbackSlots.delete(slot);
      if (this.tracker.release(slot, this.nowMs())) this.releaseCount.fallback.inc();
    }, u.holdMs);
    timer.unref();
    this.fallbackSlots.set(slot, timer);
  }

  private sweep(): void {
    const oldest = this.nowMs() - this.slotTimeoutMs;
    for (const s of this.streams) if (s.slot && !s.slot.released && s.slot.startedMs < oldest) this.release(s, 'timeout', false);
  }

  private onMessage(state: StreamState, msg: DecodedRequest): void {
    this.messageCount[msg.type].inc();
    switch (msg.type) {
      case 'request_headers':
        if (state.phase !== 0) return this.malformed(state, 'request_headers', 'request_headers received twice');
        state.phase = 1;
        return this.decide(state, msg);
      case 'response_headers':
        if (state.phase !== 1) return this.malformed(state, 'response_headers', 'response_headers before request_headers');
        state.phase = 2;
        this.release(state, 'response_headers', true);
        return this.write(state, continueReply('response_headers'));
      case 'invalid':
      case 'empty':
        // We cannot tell which phase Envoy meant: answer the one it is waiting for.
        return this.malformed(state, state.phase === 0 ? 'request_headers' : 'response_headers', msg.error ?? 'no request field set');
      default:
        // Bodies and trailers were not asked for (headers-only mode); let them through untouched.
        return this.write(state, continueReply(msg.type));
    }
  }

  private malformed(state: StreamState, answer: Phase, why: string): void {
    this.decisionCount.malformed.inc();
    this.log.debug({ why }, 'malformed ext_proc message');
    this.write(state, continueReply(answer));
  }

  private outcome(state: StreamState, outcome: DecisionOutcome, startedMs: number, reply: Buffer): void {
    this.write(state, reply);
    this.decisionCount[outcome].inc();
    const seconds = (performance.now() - startedMs) / 1000;
    this.metrics.decisionSeconds.observe(seconds);
    this.onDecision?.(seconds);
  }

  private decide(state: StreamState, msg: DecodedRequest): void {
    const started = performance.now();
    const headers = msg.headers ?? NO_HEADERS;
    const claimed = headers.get(HEADER_NODE) || state.call.header(HEADER_NODE) || UNKNOWN_GATEWAY;
    const gateway = this.authorizer?.check(state.call, claimed, 'extproc').ok === false ? UNKNOWN_GATEWAY : claimed;
    const resolved = this.resolver.resolve(headers, this.rng);
    if (!resolved) {
      return this.outcome(
        state,
        this.failClosed ? 'fail_closed' : 'no_service',
        started,
        this.failClosed ? immediateReply(503, 'no service for this host') : continueReply('request_headers'),
      );
    }
    this.onRequest?.(gateway, resolved.service);
    const service = this.store.service(resolved.service);
    const now = this.nowMs();
    this.maybePrune();
    const store = this.store;
    const defaultServiceMs = store.defaults.serviceTimeMs;
    const result = pick({
      gateway,
      assignment: this.engine.get(resolved.service, gateway),
      endpoints: service?.endpoints ?? [],
      load: this.load,
      rttMs: (from, to) => store.rttMs(from, to, now),
      priorMs: (node) => store.serviceTimeMs(resolved.service, node) ?? defaultServiceMs,
      nowMs: now,
      rng: this.rng,
      maxFallbacks: this.maxFallbacks,
    });
    if (result.kind === 'no_candidate') {
      return this.outcome(
        state,
        this.failClosed ? 'fail_closed' : 'no_candidate',
        started,
        this.failClosed ? immediateReply(503, 'no ready endpoint') : continueReply('request_headers'),
      );
    }
    if (result.saturated && this.shed) return this.outcome(state, 'shed', started, immediateReply(429, 'all endpoints at capacity'));
    const chosen = result.pick;
    state.slot = this.tracker.acquire(chosen.key, now, chosen.rttMs, chosen.queueFactor, chosen.atPodShare, chosen.costMs);
    state.gateway = gateway;
    state.service = resolved.service;
    // Only gateways on known nodes: a peer-chosen node name must not grow the counts.
    if (this.pickedDemand && this.store.hasNode(gateway))
      state.demand = this.pickedDemand.picked(gateway, resolved.service, chosen.endpoint.node);
    this.ruleCounts[result.rule]++;
    (chosen.endpoint.node === gateway ? this.localPicks : this.remotePicks).inc();
    if (result.leftLocalWithRoom) {
      this.metrics.leftLocalWithRoom.inc();
      this.leftLocal.add(now, gateway, result.rule, chosen, result.leftLocalWithRoom, result.premiumMs);
    }
    const reply = destinationReply({
      destination: chosen.key,
      fallbacks: result.fallbacks.map((c) => c.key),
      extraHeaders: resolved.appendHeaders,
      rawValues: msg.rawValues,
    });
    this.outcome(state, 'picked', started, reply);
  }

  /** Forget load state of endpoints that left the model (checked once per model generation). */
  private maybePrune(): void {
    if (this.prunedGeneration === this.store.generation) return;
    this.prunedGeneration = this.store.generation;
    const keep = new Set<string>();
    for (const s of this.store.services()) for (const e of s.endpoints) keep.add(endpointKey(e));
    this.tracker.prune(keep);
  }
}

const NO_HEADERS: ReadonlyMap<string, string> = new Map();
