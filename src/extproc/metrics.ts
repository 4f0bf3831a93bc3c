import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EndpointLoadSnapshot } from './load-tracker.js';

export type DecisionOutcome = 'picked' | 'no_service' | 'no_candidate' | 'shed' | 'fail_closed' | 'malformed';
/**
 * How an in-flight slot was freed: the response (headers), the stream's end or cancellation, an
 * error, the time bound, or the stream's end before any answer could have come back (abandoned);
 * `fallback`: the slot an abandoned request held where the EDS weights sent it, at its expected end.
 */
export type SlotRelease = 'response_headers' | 'end' | 'cancelled' | 'error' | 'close' | 'timeout' | 'abandoned' | 'fallback';

export interface ExtProcMetrics {
  readonly decisions: Counter<'outcome'>;
  readonly decisionSeconds: Histogram<string>;
  readonly picks: Counter<'locality'>;
  readonly messages: Counter<'type'>;
  readonly streamsActive: Gauge<string>;
  readonly slotsReleased: Counter<'reason'>;
  readonly leftLocalWithRoom: Counter<string>;
}

/**
 * The ext_proc part's metrics. `inflight` reads the tracker at scrape time, so the request path
 * never touches a per-endpoint gauge.
 */
export function createExtProcMetrics(registry: Registry, inflight: () => readonly EndpointLoadSnapshot[]): ExtProcMetrics {
  const decisions = new Counter({
    name: 'proxima_extproc_decisions_total',
    help: 'ext_proc routing decisions by outcome (picked, no_service, no_candidate, shed, fail_closed, malformed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const o of ['picked', 'no_service', 'no_candidate', 'shed', 'fail_closed', 'malformed'] as const) decisions.inc({ outcome: o }, 0);
  const decisionSeconds = new Histogram({
    name: 'proxima_extproc_decision_duration_seconds',
    help: 'Time from receiving request_headers to having the reply ready (resolve + pick + encode), in seconds.',
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [registry],
  });
  const picks = new Counter({
    name: 'proxima_extproc_picks_total',
    help: 'Picked endpoints by locality relative to the gateway: local (same node) or remote.',
    labelNames: ['locality'] as const,
    registers: [registry],
  });
  const messages = new Counter({
    name: 'proxima_extproc_messages_total',
    help: 'ProcessingRequest messages received, by type (request_headers, response_headers, request_body, ..., invalid).',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const streamsActive = new Gauge({
    name: 'proxima_extproc_streams_active',
    help: 'Open ext_proc Process streams (one per HTTP request in flight through a gateway).',
    registers: [registry],
  });
  const slotsReleased = new Counter({
    name: 'proxima_extproc_slots_released_total',
    help: 'In-flight slots released, by reason: response_headers, end (Envoy closed the stream at the end of the request), cancelled, error, close (server shutdown), timeout (held longer than the slot timeout), abandoned (the stream ended sooner than the trip to the picked endpoint and back: the gateway gave up waiting for the decision and followed the EDS weights), fallback (that request counted on the endpoint the EDS weights would draw, until its expected end).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const r of ['response_headers', 'end', 'cancelled', 'error', 'close', 'timeout', 'abandoned', 'fallback'] as const)
    slotsReleased.inc({ reason: r }, 0);
  const leftLocalWithRoom = new Counter({
    name: 'proxima_extproc_picks_left_local_with_room_total',
    help: "Picks sent to another node although a pod on the gateway's own node had a free slot (/debug/extproc explains the latest).",
    registers: [registry],
  });
  new Gauge({
    name: 'proxima_extproc_inflight_requests',
    help: 'Requests in flight per endpoint as counted by the ext_proc picker.',
    labelNames: ['endpoint'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const e of inflight()) this.set({ endpoint: e.endpoint }, e.inflight);
    },
  });
  new Gauge({
    name: 'proxima_extproc_endpoint_ewma_seconds',
    help: 'EWMA of the endpoint service time (observed latency minus gateway RTT, divided by the queueing factor at pick time) used to rank endpoints, in seconds.',
    labelNames: ['endpoint'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const e of inflight()) if (e.samples > 0) this.set({ endpoint: e.endpoint }, e.ewmaMs / 1000);
    },
  });
  return { decisions, decisionSeconds, picks, messages, streamsActive, slotsReleased, leftLocalWithRoom };
}
