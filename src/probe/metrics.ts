import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metrics of the probe agent (`proxima probe`). Per-peer series are removed when a peer leaves. */
export function createProbeMetrics(registry: Registry) {
  const registers = [registry];
  return {
    rttMs: new Gauge({
      name: 'proxima_probe_rtt_milliseconds',
      help: 'Smoothed (EWMA) HTTP keep-alive round-trip time to a peer agent.',
      labelNames: ['peer'],
      registers,
    }),
    rttP90Ms: new Gauge({
      name: 'proxima_probe_rtt_p90_milliseconds',
      help: '90th percentile of the recent round-trip samples to a peer agent.',
      labelNames: ['peer'],
      registers,
    }),
    tcpConnectMs: new Gauge({
      name: 'proxima_probe_tcp_connect_milliseconds',
      help: 'Smoothed TCP connect time to a peer agent (second estimator).',
      labelNames: ['peer'],
      registers,
    }),
    lossRatio: new Gauge({
      name: 'proxima_probe_loss_ratio',
      help: 'Share of recent probes to a peer that failed (0..1).',
      labelNames: ['peer'],
      registers,
    }),
    reachable: new Gauge({
      name: 'proxima_probe_reachable',
      help: '1 when the peer answers probes, 0 after consecutive failures.',
      labelNames: ['peer'],
      registers,
    }),
    probes: new Counter({
      name: 'proxima_probe_probes_total',
      help: 'Probes sent, by outcome (ok, timeout, error, http_error).',
      labelNames: ['outcome'],
      registers,
    }),
    confirmations: new Counter({
      name: 'proxima_probe_shift_confirmations_total',
      help: "Extra probes sent to confirm a sample that looked like a level shift of a peer's RTT.",
      registers,
    }),
    peers: new Gauge({ name: 'proxima_probe_peers', help: 'Peers known from the control plane.', registers }),
    probedPerRound: new Gauge({
      name: 'proxima_probe_round_peers',
      help: 'Peers probed in the last round, by why they were chosen (near, suspect, rotating).',
      labelNames: ['reason'],
      registers,
    }),
    roundSeconds: new Histogram({
      name: 'proxima_probe_round_duration_seconds',
      help: 'Time to probe every selected peer in one round.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    connected: new Gauge({
      name: 'proxima_probe_control_plane_connected',
      help: '1 while the report stream to the control plane is open.',
      registers,
    }),
    reports: new Counter({ name: 'proxima_probe_reports_sent_total', help: 'Reports sent to the control plane.', registers }),
    reconnects: new Counter({ name: 'proxima_probe_reconnects_total', help: 'Report stream (re)connection attempts.', registers }),
  };
}

export type ProbeMetrics = ReturnType<typeof createProbeMetrics>;

/** Metrics of the control-plane side that ingests probe reports. */
export function createProbeCollectorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    agents: new Gauge({ name: 'proxima_probe_collector_agents', help: 'Probe agents with an open report stream.', registers }),
    waiting: new Gauge({
      name: 'proxima_probe_collector_waiting_agents',
      help: 'Agents on nodes the model does not know (yet), remembered in an LRU of --max-tracked-ids entries.',
      registers,
    }),
    reports: new Counter({
      name: 'proxima_probe_collector_reports_total',
      help: 'Probe reports received, by outcome (accepted, rejected).',
      labelNames: ['outcome'],
      registers,
    }),
    rejected: new Counter({
      name: 'proxima_probe_collector_rejected_total',
      help: 'Probe reports or rows rejected, by reason (unknown_node, no_hello, node_mismatch, too_many_rows, unknown_peer, self_peer, invalid_rtt, invalid_loss, invalid_time, stale, bad_hello).',
      labelNames: ['reason'],
      registers,
    }),
    rows: new Counter({ name: 'proxima_probe_collector_rows_total', help: 'RTT rows fed into the model.', registers }),
    podSignalRows: new Counter({
      name: 'proxima_probe_collector_pod_signal_rows_total',
      help: 'Per-revision queue-proxy signal rows fed into the model (rejected ones count in proxima_probe_collector_rejected_total with reason pod_signal_*).',
      registers,
    }),
    peerLists: new Counter({ name: 'proxima_probe_collector_peer_lists_sent_total', help: 'Peer lists sent to agents.', registers }),
  };
}

export type ProbeCollectorMetrics = ReturnType<typeof createProbeCollectorMetrics>;
