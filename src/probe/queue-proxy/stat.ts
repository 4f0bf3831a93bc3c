/**
 * The queue-proxy's autoscaling stat (port 9090, `GET /metrics` with `Accept: application/protobuf`):
 * one protobuf `Stat` message, knative/serving `pkg/autoscaler/metrics/stat.proto`:
 *
 *   1 pod_name string · 2 average_concurrent_requests double · 3 average_proxied_concurrent_requests
 *   double · 4 request_count double · 5 proxied_request_count double · 6 process_uptime double ·
 *   7 timestamp int64
 *
 * The averages cover the queue-proxy's last reporting window (1 s): concurrency is time-weighted and
 * counts queued requests, request_count is requests per second in that window. Pure code: a minimal
 * protobuf reader/writer for this one message (unknown fields skipped), bounded by the input size.
 */

export interface QueueProxyStat {
  readonly podName: string;
  readonly averageConcurrentRequests: number;
  readonly averageProxiedConcurrentRequests: number;
  /** Requests per second over the stat's window (named a count upstream). */
  readonly requestCount: number;
  readonly proxiedRequestCount: number;
  readonly processUptimeS: number;
  readonly timestampS: number;
}

/** The protobuf content type the autoscaler asks for (knative/serving `pkg/autoscaler/metrics/stats_scraper.go`). */
export const STAT_CONTENT_TYPE = 'application/protobuf';

const DOUBLE_FIELDS: Record<number, keyof QueueProxyStat> = {
  2: 'averageConcurrentRequests',
  3: 'averageProxiedConcurrentRequests',
  4: 'requestCount',
  5: 'proxiedRequestCount',
  6: 'processUptimeS',
};

/** Decode one `Stat`; an error names what is wrong (never throws). */
export function decodeStat(bytes: Uint8Array): { stat: QueueProxyStat } | { error: string } {
  const out: Record<string, string | number> = {
    podName: '',
    averageConcurrentRequests: 0,
    averageProxiedConcurrentRequests: 0,
    requestCount: 0,
    proxiedRequestCount: 0,
    processUptimeS: 0,
    timestampS: 0,
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const varint = (): number | undefined => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) return undefined;
      const b = bytes[pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag === undefined) return { error: `truncated tag at byte ${pos}` };
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) return { error: `field number 0 at byte ${pos}` };
    if (wire === 1) {
      if (pos + 8 > bytes.length) return { error: `truncated double (field ${field})` };
      const v = view.getFloat64(pos, true);
      pos += 8;
      const key = DOUBLE_FIELDS[field];
      if (key) {
        if (!Number.isFinite(v)) return { error: `field ${key} is not finite` };
        out[key] = v;
      }
    } else if (wire === 0) {
      const v = varint();
      if (v === undefined) return { error: `truncated varint (field ${field})` };
      if (field === 7) out['timestampS'] = v;
    } else if (wire === 2) {
      const len = varint();
      if (len === undefined || pos + len > bytes.length) return { error: `truncated bytes (field ${field})` };
      if (field === 1) out['podName'] = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(pos, pos + len));
      pos += len;
    } else if (wire === 5) {
      if (pos + 4 > bytes.length) return { error: `truncated fixed32 (field ${field})` };
      pos += 4;
    } else {
      return { error: `unsupported wire type ${wire} (field ${field})` };
    }
  }
  const s = out as unknown as QueueProxyStat;
  for (const k of Object.values(DOUBLE_FIELDS)) {
    if ((s[k] as number) < 0) return { error: `field ${k} is negative` };
  }
  return { stat: s };
}

/** Encode a `Stat` (the emulated queue-proxy and test servers answer with it). */
export function encodeStat(s: QueueProxyStat): Uint8Array {
  const name = new TextEncoder().encode(s.podName);
  const parts: number[] = [];
  const pushVarint = (v: number) => {
    let n = Math.floor(v);
    while (n >= 0x80) {
      parts.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    parts.push(n);
  };
  if (name.length > 0) {
    pushVarint((1 << 3) | 2);
    pushVarint(name.length);
    parts.push(...name);
  }
  const buf = new DataView(new ArrayBuffer(8));
  for (const [field, key] of Object.entries(DOUBLE_FIELDS)) {
    const v = s[key] as number;
    if (v === 0) continue;
    pushVarint((Number(field) << 3) | 1);
    buf.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) parts.push(buf.getUint8(i));
  }
  if (s.timestampS > 0) {
    pushVarint((7 << 3) | 0);
    pushVarint(s.timestampS);
  }
  return Uint8Array.from(parts);
}
