import type protobuf from 'protobufjs';
import { putVarint, varintSize } from '../util/varint.js';

/**
 * Hand-rolled protobuf for the ext_proc hot path: a reader that decodes only what the server uses
 * from a ProcessingRequest (which phase; the headers of request/response_headers) and a writer for
 * the request_headers reply built from cached fragments. Both are checked byte for byte against
 * protobufjs in wire.test.ts. The reader gives up (returns undefined) on anything it does not fully
 * understand (bodies, attributes, duplicated sub-messages, groups, truncation) so the caller can
 * fall back to protobufjs and behave exactly as before.
 */

export interface FastHeaders {
  /** 'request_headers' or 'response_headers'; undefined = no oneof field set. */
  readonly phase: 'request_headers' | 'response_headers' | undefined;
  /** Lower-case name → first value (only the wanted names when the caller named some). */
  readonly headers: Map<string, string>;
  /** At least one header carried a non-empty raw_value. */
  readonly sawRaw: boolean;
  /** Headers with a name in the message, wanted or not. */
  readonly seen: number;
}

/** Field numbers that the schema knows but the reader does not parse: seeing one means "fall back". */
export interface KnownFields {
  readonly request: ReadonlySet<number>;
  readonly httpHeaders: ReadonlySet<number>;
  readonly headerMap: ReadonlySet<number>;
  readonly headerValue: ReadonlySet<number>;
}

export function knownFields(lookup: (name: string) => protobuf.Type): KnownFields {
  const ids = (name: string): Set<number> => new Set(Object.keys(lookup(name).fieldsById).map(Number));
  return {
    request: ids('envoy.service.ext_proc.v3.ProcessingRequest'),
    httpHeaders: ids('envoy.service.ext_proc.v3.HttpHeaders'),
    headerMap: ids('envoy.config.core.v3.HeaderMap'),
    headerValue: ids('envoy.config.core.v3.HeaderValue'),
  };
}

// Reader state: decoding is synchronous and never re-entered, so module state avoids closures.
let buf: Buffer = Buffer.alloc(0);
let pos = 0;
let known: KnownFields;

/** Unsigned varint of at most 32 bits; -1 when longer, truncated or past `end`. */
function varint(end: number): number {
  let v = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) return -1;
    const b = buf[pos++]!;
    if (shift === 28 && b > 0x0f) return -1;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return v;
  }
  return -1;
}

/** Skip a field this reader does not need; false when it cannot be skipped safely. */
function skip(wireType: number, end: number): boolean {
  switch (wireType) {
    case 0:
      for (let i = 0; i < 10; i++) {
        if (pos >= end) return false;
        if (buf[pos++]! < 0x80) return true;
      }
      return false;
    case 1:
      pos += 8;
      return pos <= end;
    case 2: {
      const len = varint(end);
      if (len < 0 || pos + len > end) return false;
      pos += len;
      return true;
    }
    case 5:
      pos += 4;
      return pos <= end;
    default:
      return false;
  }
}

/** Length-delimited payload: its end offset, or -1. */
function delimited(end: number): number {
  const len = varint(end);
  if (len < 0 || pos + len > end) return -1;
  return pos + len;
}

// Offsets of the last HeaderValue's fields (-1: absent); strings are decoded only for wanted headers.
let keyAt = -1;
let keyEnd = -1;
let valueAt = -1;
let valueEnd = -1;
let rawAt = -1;
let rawEnd = -1;
let wanted: ReadonlySet<string> | undefined;
let seen = 0;

function headerValue(end: number): boolean {
  keyAt = valueAt = rawAt = -1;
  while (pos < end) {
    const tag = varint(end);
    if (tag <= 0) return false;
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field >= 1 && field <= 3) {
      if (wt !== 2) return false;
      const stop = delimited(end);
      if (stop < 0) return false;
      if (field === 1) [keyAt, keyEnd] = [pos, stop];
      else if (field === 2) [valueAt, valueEnd] = [pos, stop];
      else [rawAt, rawEnd] = [pos, stop];
      pos = stop;
    } else if (known.headerValue.has(field) || !skip(wt, end)) return false;
  }
  return pos === end;
}

function headerMap(end: number, out: Map<string, string>): 0 | 1 | 2 {
  let sawRaw: 0 | 1 = 0;
  while (pos < end) {
    const tag = varint(end);
    if (tag <= 0) return 2;
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1) {
      if (wt !== 2) return 2;
      const stop = delimited(end);
      if (stop < 0 || !headerValue(stop)) return 2;
      if (keyAt < 0 || keyEnd === keyAt) continue;
      seen++;
      const hasRaw = rawAt >= 0 && rawEnd > rawAt;
      if (hasRaw) sawRaw = 1;
      const name = buf.toString('utf8', keyAt, keyEnd).toLowerCase();
      if ((wanted && !wanted.has(name)) || out.has(name)) continue;
      out.set(name, hasRaw ? buf.toString('utf8', rawAt, rawEnd) : valueAt >= 0 ? buf.toString('utf8', valueAt, valueEnd) : '');
    } else if (known.headerMap.has(field) || !skip(wt, end)) return 2;
  }
  return pos === end ? sawRaw : 2;
}

function httpHeaders(end: number, out: Map<string, string>): 0 | 1 | 2 {
  let sawRaw: 0 | 1 = 0;
  let seen = false;
  while (pos < end) {
    const tag = varint(end);
    if (tag <= 0) return 2;
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1) {
      // protobufjs replaces (does not merge) a repeated sub-message: leave that to it.
      if (wt !== 2 || seen) return 2;
      seen = true;
      const stop = delimited(end);
      if (stop < 0) return 2;
      const r = headerMap(stop, out);
      if (r === 2) return 2;
      sawRaw = r;
    } else if (field === 3) {
      if (wt !== 0 || !skip(0, end)) return 2;
    } else if (known.httpHeaders.has(field) || !skip(wt, end)) return 2;
  }
  return pos === end ? sawRaw : 2;
}

/**
 * Decode a ProcessingRequest carrying request_headers, response_headers or nothing; undefined for
 * anything else (other phases, unparsed known fields, malformed bytes): use protobufjs then. With
 * `only`, headers not named there (lower-case) are skipped without decoding their values.
 */
export function fastDecode(input: Buffer, fields: KnownFields, only?: ReadonlySet<string>): FastHeaders | undefined {
  buf = input;
  pos = 0;
  known = fields;
  wanted = only;
  seen = 0;
  const end = input.length;
  let phase: FastHeaders['phase'];
  const headers = new Map<string, string>();
  let sawRaw = false;
  try {
    while (pos < end) {
      const tag = varint(end);
      if (tag <= 0) return undefined;
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 2 || field === 3) {
        if (wt !== 2 || phase !== undefined) return undefined;
        phase = field === 2 ? 'request_headers' : 'response_headers';
        const stop = delimited(end);
        if (stop < 0) return undefined;
        const r = httpHeaders(stop, headers);
        if (r === 2) return undefined;
        sawRaw = r === 1;
      } else if (field === 10) {
        if (wt !== 0 || !skip(0, end)) return undefined;
      } else if (fields.request.has(field) || !skip(wt, end)) return undefined;
    }
    return pos === end ? { phase, headers, sawRaw, seen } : undefined;
  } finally {
    buf = EMPTY;
    wanted = undefined;
  }
}
const EMPTY = Buffer.alloc(0);

// ---------------------------------------------------------------------------------------------
// Writer: the request_headers reply (see codec.destinationReply) assembled from fragments.

/** tag + length + payload of a length-delimited field. */
function field(tag: number, ...payload: Buffer[]): Buffer {
  let len = 0;
  for (const p of payload) len += p.length;
  const out = Buffer.allocUnsafe(1 + varintSize(len) + len);
  out[0] = tag;
  let at = putVarint(out, 1, len);
  for (const p of payload) at += p.copy(out, at);
  return out;
}

function str(tag: number, s: string): Buffer {
  return field(tag, Buffer.from(s, 'utf8'));
}

/** One `HeaderMutation.set_headers` entry: HeaderValueOption{header: HeaderValue{key, value|raw_value}}. */
export function setHeaderEntry(key: string, value: string, rawValue: boolean): Buffer {
  return field(0x0a, field(0x0a, str(0x0a, key), str(rawValue ? 0x1a : 0x12, value)));
}

/** ProcessingResponse.dynamic_metadata = {namespace: {header: destination}} (Struct in Struct). */
export function metadataField(namespace: string, header: string, destination: string): Buffer {
  const inner = field(0x0a, str(0x0a, header), field(0x12, str(0x1a, destination)));
  return field(0x42, field(0x0a, str(0x0a, namespace), field(0x12, field(0x2a, inner))));
}

const CLEAR_ROUTE_CACHE = Buffer.from([0x28, 0x01]);

/**
 * ProcessingResponse{request_headers: {response: {header_mutation: {set_headers: entries},
 * clear_route_cache: true}}, dynamic_metadata} in one allocation.
 */
export function assembleDestinationReply(entries: readonly Buffer[], metadata: Buffer): Buffer {
  let mutationLen = 0;
  for (const e of entries) mutationLen += e.length;
  const commonLen = 1 + varintSize(mutationLen) + mutationLen + CLEAR_ROUTE_CACHE.length;
  const headersLen = 1 + varintSize(commonLen) + commonLen;
  const total = 1 + varintSize(headersLen) + headersLen + metadata.length;
  const out = Buffer.allocUnsafe(total);
  out[0] = 0x0a; // ProcessingResponse.request_headers
  let at = putVarint(out, 1, headersLen);
  out[at++] = 0x0a; // HeadersResponse.response
  at = putVarint(out, at, commonLen);
  out[at++] = 0x12; // CommonResponse.header_mutation
  at = putVarint(out, at, mutationLen);
  for (const e of entries) at += e.copy(out, at);
  at += CLEAR_ROUTE_CACHE.copy(out, at);
  metadata.copy(out, at);
  return out;
}
