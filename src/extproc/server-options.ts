import type { Registry } from 'prom-client';
import type { AssignmentEngine } from '../engine/assignments.js';
import type { Logger } from '../log.js';
import type { ClusterLoad } from '../lrs/parse.js';
import type { ModelStore } from '../model/store.js';
import type { NodeAuthorizer } from '../tls/authorizer.js';
import type { LeftLocalRecord } from './left-local.js';
import type { EndpointLoadSnapshot } from './load-tracker.js';
import type { PickRule } from './picker.js';
import type { PodLoadSource } from './pod-signals.js';

/** What the ext_proc server is given (server.ts), and what it shows of itself on /debug. */

export interface ExtProcServerOptions {
  readonly store: ModelStore;
  readonly engine: AssignmentEngine;
  readonly log: Logger;
  readonly registry: Registry;
  /** Milliseconds clock for latency samples and cost decay (default: performance clock, sub-ms). */
  readonly nowMs?: () => number;
  readonly rng?: () => number;
  /** Unknown host / no candidate → immediate 503 instead of CONTINUE. */
  readonly failClosed?: boolean;
  /** Every candidate at capacity → immediate 429 instead of queueing on the cheapest one. */
  readonly shedWhenSaturated?: boolean;
  /** Time constant of an idle endpoint's cost drifting back to the model's service time (default 10 s). */
  readonly ewmaDecayMs?: number;
  /** Longest `x-proxima-destination-fallback` list (default 3). */
  readonly maxFallbacks?: number;
  /** A slot not released by then (a stream that never answers nor ends) is freed anyway (default 30 s). */
  readonly slotTimeoutMs?: number;
  /** The pods' own load signals (queue-proxy stats), when a source exists; see pod-signals.ts. */
  readonly podLoad?: PodLoadSource;
  /** Demand observation hook: one call per routed request (for the demand estimator when LRS is absent). */
  readonly onRequest?: (gateway: string, service: string) => void;
  /** With mutual TLS: x-proxima-node must name the node of the gateway's certificate, else it picks as an unknown gateway. */
  readonly authorizer?: NodeAuthorizer;
  /** Called with each decision's duration in seconds (benchmarks; the histogram metric has it too). */
  readonly onDecision?: (seconds: number) => void;
  /**
   * The requests routed per gateway node, every `demandIntervalMs`, as LRS load (see picked-demand.ts):
   * ext_proc's ORIGINAL_DST cluster reports none, so without this the demand learner only sees fallbacks.
   */
  readonly onDemand?: (gateway: string, loads: readonly ClusterLoad[]) => void;
  /** Default 1000 ms. */
  readonly demandIntervalMs?: number;
}

export interface ExtProcSnapshot {
  readonly streams: number;
  readonly inflightTotal: number;
  readonly endpoints: readonly EndpointLoadSnapshot[];
  readonly failClosed: boolean;
  readonly shedWhenSaturated: boolean;
  readonly slotTimeoutMs: number;
  /** Picks by the rule that chose them. */
  readonly rules: Readonly<Record<PickRule, number>>;
  /** Picks that went to another node although the gateway's own node had a free slot. */
  readonly leftLocalWithRoom: number;
  /** The latest of those, with both candidates' numbers (newest last). */
  readonly leftLocalRecent: readonly LeftLocalRecord[];
  /** Picks whose stream ended before an answer could have come back (see `ABANDONED_SERVICE_SHARE` in server.ts). */
  readonly abandoned: number;
  /** Of those, counted where the EDS weights would send them (see `countFallback`). */
  readonly fallbacksCounted: number;
}
