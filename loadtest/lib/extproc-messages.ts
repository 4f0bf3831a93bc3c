/**
 * ext_proc messages as k6's gRPC module sees them: the Protobuf JSON mapping (protojson). Requests
 * use the proto field names (protojson accepts them); replies arrive with lowerCamelCase names and
 * bytes as base64, so readers accept both spellings. Pure: base64 is injected (k6/encoding in k6,
 * Buffer in Node tests).
 */

export const EXTPROC_METHOD = 'envoy.service.ext_proc.v3.ExternalProcessor/Process';
/** Proto file (relative to the envoy-api import path) that defines the service. */
export const EXTPROC_PROTO = 'envoy/service/ext_proc/v3/external_processor.proto';
/** Import paths under @grpc/grpc-js-xds/deps that its imports resolve in. */
export const PROTO_SUBDIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'] as const;

export const HEADER_DESTINATION = 'x-proxima-destination';
export const HEADER_NODE = 'x-proxima-node';

/** Current Envoy sends header values in `raw_value` (bytes); older Envoy in `value`. */
export type HeaderEncoding = 'raw' | 'value';

type Obj = Record<string, unknown>;

function headerList(headers: Readonly<Record<string, string>>, encoding: HeaderEncoding, b64encode: (s: string) => string): Obj[] {
  return Object.keys(headers).map((key) =>
    encoding === 'raw' ? { key, raw_value: b64encode(headers[key]!) } : { key, value: headers[key]! },
  );
}

/** What Envoy sends first on a stream: the request headers of a bodiless GET. */
export function requestHeadersMessage(
  r: { authority: string; node: string; path?: string; requestId?: string },
  encoding: HeaderEncoding,
  b64encode: (s: string) => string,
): Obj {
  const headers: Record<string, string> = {
    ':authority': r.authority,
    ':method': 'GET',
    ':path': r.path ?? '/',
    ':scheme': 'http',
    [HEADER_NODE]: r.node,
  };
  if (r.requestId) headers['x-request-id'] = r.requestId;
  return { request_headers: { headers: { headers: headerList(headers, encoding, b64encode) }, end_of_stream: true } };
}

/** What Envoy sends once the upstream answered (response_header_mode: SEND). */
export function responseHeadersMessage(status: number, encoding: HeaderEncoding, b64encode: (s: string) => string): Obj {
  return {
    response_headers: { headers: { headers: headerList({ ':status': String(status) }, encoding, b64encode) }, end_of_stream: true },
  };
}

const camel = (snake: string) => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A field by proto name or JSON name; undefined for null/absent (protojson may emit nulls). */
export function field(o: unknown, protoName: string): unknown {
  if (o === null || typeof o !== 'object') return undefined;
  const rec = o as Obj;
  const v = rec[protoName] ?? rec[camel(protoName)];
  return v === null ? undefined : v;
}

export type ReplyKind = 'request_headers' | 'response_headers' | 'immediate_response' | 'other';

/** Which ProcessingResponse oneof the server set. */
export function replyKind(msg: unknown): ReplyKind {
  for (const k of ['request_headers', 'response_headers', 'immediate_response'] as const) if (field(msg, k) !== undefined) return k;
  return 'other';
}

/** The value a request_headers reply sets for `name` (raw_value decoded), else undefined. */
export function mutatedHeader(msg: unknown, name: string, b64decode: (s: string) => string): string | undefined {
  const set = field(field(field(field(msg, 'request_headers'), 'response'), 'header_mutation'), 'set_headers');
  if (!Array.isArray(set)) return undefined;
  for (const option of set) {
    const h = field(option, 'header');
    if (String(field(h, 'key') ?? '').toLowerCase() !== name) continue;
    const rawValue = field(h, 'raw_value');
    if (typeof rawValue === 'string' && rawValue !== '') return b64decode(rawValue);
    const value = field(h, 'value');
    return typeof value === 'string' ? value : '';
  }
  return undefined;
}

/** Envoy must re-run route selection after the mutation, or the ORIGINAL_DST route never matches. */
export function clearsRouteCache(msg: unknown): boolean {
  return field(field(field(msg, 'request_headers'), 'response'), 'clear_route_cache') === true;
}

/** ip:port (IPv6 in brackets), what an ORIGINAL_DST cluster with use_http_header accepts. */
export function isHostPort(s: string | undefined): boolean {
  return s !== undefined && /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(s);
}
