import type { HelloMsg, ReportMsg, RttRowMsg } from './protocol.js';

/**
 * Validation of probe agent messages (pure). A report is either rejected as a whole (structural
 * problems) or row by row; only rows that pass reach the model.
 */

export type ProbeRejectReason =
  | 'bad_hello'
  | 'identity_refused'
  | 'no_hello'
  | 'unknown_node'
  | 'node_mismatch'
  | 'too_many_rows'
  | 'unknown_peer'
  | 'self_peer'
  | 'invalid_rtt'
  | 'invalid_loss'
  | 'invalid_time'
  | 'stale';

export interface ReportLimits {
  /** Rows per report above this reject the report. */
  readonly maxRows: number;
  /** RTT above this (or negative, or not finite) rejects the row. */
  readonly maxRttMs: number;
  /** Rows whose last probe is older than this are unknown, not fresh measurements. */
  readonly staleAfterMs: number;
  /** Tolerated clock disorder between a row's measurement time and the report's send time. */
  readonly maxFutureMs: number;
}

export const DEFAULT_REPORT_LIMITS: ReportLimits = Object.freeze({
  maxRows: 4096,
  maxRttMs: 60_000,
  staleAfterMs: 30_000,
  maxFutureMs: 5_000,
});

export interface AcceptedRow {
  readonly to: string;
  readonly rttMs: number;
  readonly reachable: boolean;
  /** Age of the measurement when the report was sent (agent clock differences only). */
  readonly ageMs: number;
}

export interface ValidatedReport {
  /** Set when the whole report is rejected. */
  readonly rejectedAs?: ProbeRejectReason;
  readonly rows: readonly AcceptedRow[];
  /** Rejected rows by reason. */
  readonly rowRejects: ReadonlyMap<ProbeRejectReason, number>;
}

const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;
const ADDRESS = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;

export function validateHello(h: HelloMsg | null | undefined): { node: string; probeAddress: string } | { error: string } {
  const node = h?.node ?? '';
  const probeAddress = h?.probe_address ?? '';
  if (!NODE_NAME.test(node)) return { error: `hello.node "${node}" is not a node name` };
  if (!ADDRESS.test(probeAddress)) return { error: `hello.probe_address "${probeAddress}" is not host:port` };
  const port = Number(probeAddress.slice(probeAddress.lastIndexOf(':') + 1));
  if (!(port > 0 && port <= 65535)) return { error: `hello.probe_address "${probeAddress}" has no valid port` };
  const host = probeAddress.slice(0, probeAddress.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (!probeableHost(host))
    return { error: `hello.probe_address "${probeAddress}" is link-local, multicast or unspecified: not a node address` };
  return { node, probeAddress };
}

/**
 * Peers are told to send HTTP probes to this host: never a link-local address (169.254.0.0/16 holds
 * cloud metadata services; fe80::/10), a multicast or broadcast one, or the unspecified address.
 */
export function probeableHost(host: string): boolean {
  const h = host.toLowerCase();
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(h.replace(/^::ffff:/, ''));
  if (v4) {
    const a = Number(v4[1]);
    const b = Number(v4[2]);
    return !(a === 0 || (a === 169 && b === 254) || a >= 224);
  }
  if (h.includes(':')) return !(h === '::' || /^fe[89ab]/.test(h) || h.startsWith('ff'));
  return true;
}

function toNumber(v: string | number | undefined): number {
  if (v === undefined || v === '') return 0;
  return typeof v === 'number' ? v : Number(v);
}

function checkRow(
  row: RttRowMsg,
  from: string,
  knownNode: (n: string) => boolean,
  sentAtMs: number,
  limits: ReportLimits,
): AcceptedRow | ProbeRejectReason {
  const peer = row.peer ?? '';
  if (peer === from) return 'self_peer';
  if (!knownNode(peer)) return 'unknown_peer';
  const reachable = row.reachable === true;
  const rttMs = row.rtt_ms ?? 0;
  if (typeof rttMs !== 'number' || !Number.isFinite(rttMs) || rttMs < 0 || rttMs > limits.maxRttMs) return 'invalid_rtt';
  if (reachable && toNumber(row.samples) <= 0) return 'invalid_rtt';
  const loss = row.loss_ratio ?? 0;
  if (typeof loss !== 'number' || !(loss >= 0 && loss <= 1)) return 'invalid_loss';
  const measuredAt = toNumber(row.measured_at_unix_ms);
  if (!Number.isFinite(measuredAt) || measuredAt <= 0) return 'invalid_time';
  const ageMs = sentAtMs - measuredAt;
  if (ageMs < -limits.maxFutureMs) return 'invalid_time';
  if (ageMs > limits.staleAfterMs) return 'stale';
  return { to: peer, rttMs, reachable, ageMs: Math.max(0, ageMs) };
}

/**
 * Check one report from the agent that said hello as `streamNode` (undefined: no hello yet).
 * `knownNode` answers whether the model knows a node.
 */
export function validateReport(
  report: ReportMsg | null | undefined,
  streamNode: string | undefined,
  knownNode: (n: string) => boolean,
  limits: ReportLimits = DEFAULT_REPORT_LIMITS,
): ValidatedReport {
  const none = { rows: [], rowRejects: new Map() };
  if (!streamNode) return { ...none, rejectedAs: 'no_hello' };
  if (!report || (report.node ?? '') !== streamNode) return { ...none, rejectedAs: 'node_mismatch' };
  if (!knownNode(streamNode)) return { ...none, rejectedAs: 'unknown_node' };
  const rows = report.rows ?? [];
  if (rows.length > limits.maxRows) return { ...none, rejectedAs: 'too_many_rows' };
  const sentAtMs = toNumber(report.sent_at_unix_ms);
  if (!Number.isFinite(sentAtMs) || sentAtMs <= 0) return { ...none, rejectedAs: 'invalid_time' };
  const accepted: AcceptedRow[] = [];
  const rowRejects = new Map<ProbeRejectReason, number>();
  const seen = new Set<string>();
  for (const row of rows) {
    const r = checkRow(row, streamNode, knownNode, sentAtMs, limits);
    if (typeof r === 'string') rowRejects.set(r, (rowRejects.get(r) ?? 0) + 1);
    else if (!seen.has(r.to)) {
      seen.add(r.to);
      accepted.push(r);
    }
  }
  return { rows: accepted, rowRejects };
}
