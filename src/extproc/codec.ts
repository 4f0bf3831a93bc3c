import type protobuf from 'protobufjs';
import { envoyProtos } from '../protos/envoy.js';
import { HEADER_DESTINATION, HEADER_FALLBACK, LB_METADATA_NAMESPACE } from '../model/picking-headers.js';
import { assembleDestinationReply, fastDecode, knownFields, metadataField, setHeaderEntry, type KnownFields } from './wire.js';

/**
 * Wire codec for `envoy.service.ext_proc.v3.ExternalProcessor/Process`: protobufjs decode straight to
 * what the server needs (no proto-loader object conversion), never throwing, and pre-encoded
 * replies for the fixed messages.
 */

export const PHASES = [
  'request_headers',
  'response_headers',
  'request_body',
  'response_body',
  'request_trailers',
  'response_trailers',
] as const;
export type Phase = (typeof PHASES)[number];

/** The reply field (ProcessingResponse oneof) that answers each request phase: same names. */
export interface DecodedRequest {
  /** Which oneof field was set; `invalid` = undecodable bytes; `empty` = no oneof field set. */
  readonly type: Phase | 'invalid' | 'empty';
  /** Lower-case header name → first value (request/response headers only). */
  readonly headers?: Map<string, string>;
  /** True when Envoy sent `raw_value` (current Envoy): answer in the same field. */
  readonly rawValues: boolean;
  readonly error?: string;
}

export { HEADER_DESTINATION, HEADER_FALLBACK, HEADER_NODE, LB_METADATA_NAMESPACE } from '../model/picking-headers.js';

interface HeaderValueMsg {
  key?: string;
  value?: string;
  raw_value?: Uint8Array;
}
interface HttpHeadersMsg {
  headers?: { headers?: HeaderValueMsg[] };
}

let types: { req: protobuf.Type; res: protobuf.Type; known: KnownFields } | undefined;
function t(): { req: protobuf.Type; res: protobuf.Type; known: KnownFields } {
  if (!types) {
    const p = envoyProtos();
    types = {
      req: p.type('envoy.service.ext_proc.v3.ProcessingRequest'),
      res: p.type('envoy.service.ext_proc.v3.ProcessingResponse'),
      known: knownFields((n) => p.type(n)),
    };
  }
  return types;
}

function bytesToString(b: Uint8Array): string {
  return Buffer.isBuffer(b) ? b.toString('utf8') : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

const EMPTY_REQUEST: DecodedRequest = Object.freeze({ type: 'empty', rawValues: true });

/** @param only lower-case header names the caller reads (others are skipped when possible); all when absent */
export function decodeRequest(buf: Buffer, only?: ReadonlySet<string>): DecodedRequest {
  const fast = fastDecode(buf, t().known, only);
  if (fast) {
    if (fast.phase === undefined) return EMPTY_REQUEST;
    // No header at all carried a value: assume current Envoy (raw_value).
    return { type: fast.phase, headers: fast.headers, rawValues: fast.sawRaw || fast.seen === 0 };
  }
  return decodeRequestSlow(buf);
}

/** The protobufjs decode: the reference for `decodeRequest` and its path for unusual messages. */
export function decodeRequestSlow(buf: Buffer): DecodedRequest {
  let msg: Record<string, unknown>;
  try {
    msg = t().req.decode(buf) as unknown as Record<string, unknown>;
  } catch (err) {
    return { type: 'invalid', rawValues: true, error: (err as Error).message };
  }
  for (const phase of PHASES) {
    const body = msg[phase];
    if (body === undefined || body === null) continue;
    if (phase !== 'request_headers' && phase !== 'response_headers') return { type: phase, rawValues: true };
    const headers = new Map<string, string>();
    let rawValues = false;
    for (const h of (body as HttpHeadersMsg).headers?.headers ?? []) {
      if (!h.key) continue;
      const key = h.key.toLowerCase();
      let value: string;
      if (h.raw_value && h.raw_value.length > 0) {
        rawValues = true;
        value = bytesToString(h.raw_value);
      } else value = h.value ?? '';
      if (!headers.has(key)) headers.set(key, value);
    }
    // No header at all carried a value: assume current Envoy (raw_value).
    if (!rawValues && !headers.size) rawValues = true;
    return { type: phase, headers, rawValues };
  }
  return { type: 'empty', rawValues: true };
}

/** Test / benchmark helper: encode a ProcessingRequest from a plain object (keepCase field names). */
export function encodeRequest(obj: Record<string, unknown>): Buffer {
  const type = t().req;
  return Buffer.from(type.encode(type.fromObject(obj)).finish());
}

export function decodeResponse(buf: Buffer): Record<string, unknown> {
  const type = t().res;
  return type.toObject(type.decode(buf), { longs: String, enums: String, bytes: String, defaults: false, oneofs: true }) as Record<
    string,
    unknown
  >;
}

function encodeResponse(obj: Record<string, unknown>): Buffer {
  const type = t().res;
  return Buffer.from(type.encode(type.fromObject(obj)).finish());
}

const emptyReplies = new Map<Phase, Buffer>();
/** The CONTINUE reply for a phase, without any mutation. */
export function continueReply(phase: Phase): Buffer {
  let b = emptyReplies.get(phase);
  if (!b) {
    const body = phase.endsWith('_trailers') ? {} : { response: {} };
    emptyReplies.set(phase, (b = encodeResponse({ [phase]: body })));
  }
  return b;
}

function headerOption(key: string, value: string, raw: boolean): Record<string, unknown> {
  return { header: raw ? { key, raw_value: Buffer.from(value, 'utf8') } : { key, value } };
}

export interface DestinationReply {
  readonly destination: string;
  readonly fallbacks: readonly string[];
  /** Headers the route split adds (Knative-Serving-Revision, ...). */
  readonly extraHeaders: Readonly<Record<string, string>>;
  /** Answer in `raw_value` (current Envoy) or `value` (older Envoy), as the request did. */
  readonly rawValues: boolean;
}

/** request_headers reply: set the destination headers, clear the route cache, `envoy.lb` metadata. */
export function destinationReply(r: DestinationReply): Buffer {
  const [destinationEntry, metadata] = destinationFragments(r.destination, r.rawValues);
  const extra = extraHeaderEntries(r.extraHeaders, r.rawValues);
  if (r.fallbacks.length === 0 && extra.length === 0) return assembleDestinationReply([destinationEntry], metadata);
  const entries = [destinationEntry];
  if (r.fallbacks.length > 0) entries.push(fallbackEntry(r.fallbacks.join(','), r.rawValues));
  for (const e of extra) entries.push(e);
  return assembleDestinationReply(entries, metadata);
}

// Endpoints are few and stable: cache their encoded header entry and metadata (bounded anyway).
const MAX_CACHED_DESTINATIONS = 4096;
const destinationCache = [new Map<string, [Buffer, Buffer]>(), new Map<string, [Buffer, Buffer]>()] as const;
function destinationFragments(destination: string, rawValues: boolean): [Buffer, Buffer] {
  const cache = destinationCache[rawValues ? 1 : 0];
  let f = cache.get(destination);
  if (!f) {
    if (cache.size >= MAX_CACHED_DESTINATIONS) cache.clear();
    f = [setHeaderEntry(HEADER_DESTINATION, destination, rawValues), metadataField(LB_METADATA_NAMESPACE, HEADER_DESTINATION, destination)];
    cache.set(destination, f);
  }
  return f;
}

// A few endpoints give a few fallback lists: cache those entries too (cleared when it grows).
const fallbackCache = [new Map<string, Buffer>(), new Map<string, Buffer>()] as const;
function fallbackEntry(list: string, rawValues: boolean): Buffer {
  const cache = fallbackCache[rawValues ? 1 : 0];
  let b = cache.get(list);
  if (!b) {
    if (cache.size >= MAX_CACHED_DESTINATIONS) cache.clear();
    cache.set(list, (b = setHeaderEntry(HEADER_FALLBACK, list, rawValues)));
  }
  return b;
}

// Route/split header objects live as long as the model generation that holds them.
const NO_ENTRIES: readonly Buffer[] = [];
const extraCache = [new WeakMap<object, readonly Buffer[]>(), new WeakMap<object, readonly Buffer[]>()] as const;
function extraHeaderEntries(headers: Readonly<Record<string, string>>, rawValues: boolean): readonly Buffer[] {
  const cache = extraCache[rawValues ? 1 : 0];
  let e = cache.get(headers);
  if (!e) {
    const keys = Object.keys(headers);
    e = keys.length === 0 ? NO_ENTRIES : keys.map((k) => setHeaderEntry(k, headers[k]!, rawValues));
    cache.set(headers, e);
  }
  return e;
}

/** The protobufjs encoding of `destinationReply` (the reference the fast writer is tested against). */
export function destinationReplySlow(r: DestinationReply): Buffer {
  const set = [headerOption(HEADER_DESTINATION, r.destination, r.rawValues)];
  if (r.fallbacks.length > 0) set.push(headerOption(HEADER_FALLBACK, r.fallbacks.join(','), r.rawValues));
  for (const k of Object.keys(r.extraHeaders)) set.push(headerOption(k, r.extraHeaders[k]!, r.rawValues));
  return encodeResponse({
    request_headers: { response: { header_mutation: { set_headers: set }, clear_route_cache: true } },
    dynamic_metadata: {
      fields: { [LB_METADATA_NAMESPACE]: { structValue: { fields: { [HEADER_DESTINATION]: { stringValue: r.destination } } } } },
    },
  });
}

const immediateReplies = new Map<string, Buffer>();
/** Reject the request locally (429 shed, 503 fail-closed). */
export function immediateReply(code: 429 | 503, details: string): Buffer {
  const k = `${code} ${details}`;
  let b = immediateReplies.get(k);
  if (!b) {
    b = encodeResponse({
      immediate_response: {
        status: { code },
        body: Buffer.from(`${details}\n`),
        details: `proxima_${details.replace(/[^a-z0-9]+/gi, '_')}`,
      },
    });
    if (immediateReplies.size < 64) immediateReplies.set(k, b);
  }
  return b;
}
