import { envoyProtos } from '../../protos/envoy.js';
import type { DiscoveryRequestMessage } from './sotw.js';
import type { NodeMessage } from './stream.js';

/**
 * A SotW DiscoveryRequest read field by field. Envoy repeats every subscribed name in every ACK
 * (1,000 EDS names is ~25 KB); `namesBytes` holds their raw bytes so an unchanged subscription is
 * recognised with one memcmp and the names are only turned into strings when they changed.
 */
export interface ParsedDiscoveryRequest extends DiscoveryRequestMessage {
  /** The raw resource_names fields (tag, length, bytes each): equal bytes, equal subscription lists. */
  readonly namesBytes: Buffer;
  /** How many resource_names the request carries and the longest one in UTF-8 bytes (limits without strings). */
  readonly nameCount: number;
  readonly longestNameBytes: number;
  /**
   * The names as a set shared by every request with the same long list (a thousand gateways
   * subscribing to the same clusters hold one set, not a thousand); never to be changed. Undefined
   * for short or scattered lists.
   */
  nameSet(): ReadonlySet<string> | undefined;
}

export class RequestDecodeError extends Error {
  override readonly name = 'RequestDecodeError';
}

function decodeNode(bytes: Buffer): NodeMessage {
  const t = envoyProtos().type('envoy.config.core.v3.Node');
  return t.toObject(t.decode(bytes), { longs: String, enums: String, defaults: false }) as NodeMessage;
}

function decodeStatus(bytes: Buffer): { code?: number; message?: string } {
  const t = envoyProtos().type('google.rpc.Status');
  return t.toObject(t.decode(bytes), { defaults: false }) as { code?: number; message?: string };
}

const NO_NAMES = Buffer.alloc(0);

/** Reads the varint at `at.i` of `buf` and moves past it. */
function readVarint(buf: Buffer, at: { i: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (at.i >= buf.length) throw new RequestDecodeError('truncated varint');
    const b = buf[at.i++]!;
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return result;
    shift += 7;
    if (shift > 63) throw new RequestDecodeError('varint too long');
  }
}

/** The names held by `bytes`, a run of resource_names fields as parseDiscoveryRequest found them. */
function namesOf(bytes: Buffer): string[] {
  const names: string[] = [];
  const at = { i: 0 };
  while (at.i < bytes.length) {
    readVarint(bytes, at); // the tag: field 3, length-delimited
    const len = readVarint(bytes, at);
    names.push(bytes.toString('utf8', at.i, at.i + len));
    at.i += len;
  }
  return names;
}

/**
 * The last long run of resource_names fields parsed, with what the parser counted in it. Every
 * gateway subscribes to the same clusters, so after one change a thousand ACKs repeat the same
 * 25 KB run: one memcmp against it replaces walking a thousand fields. Equal bytes, equal names.
 */
interface NamesRun {
  readonly bytes: Buffer;
  readonly count: number;
  readonly longest: number;
  /** The names, and as a set, made once for every request that carries this run. */
  names?: string[];
  set?: ReadonlySet<string>;
}
let lastRun: NamesRun | undefined;
/** Runs shorter than this are parsed as they come (the cache is for the thousand-name ACKs). */
const CACHED_RUN_MIN_NAMES = 16;
/** Tag byte of resource_names (field 3, length-delimited). */
const NAMES_TAG = (3 << 3) | 2;

/** Length of the cached run when `buf` holds exactly it at `at` (and no further name right after it), else 0. */
function cachedRunAt(buf: Buffer, at: number): number {
  const run = lastRun;
  if (!run) return 0;
  const end = at + run.bytes.length;
  if (end > buf.length || (end < buf.length && buf[end] === NAMES_TAG)) return 0;
  return buf.compare(run.bytes, 0, run.bytes.length, at, end) === 0 ? run.bytes.length : 0;
}

/** Parse DiscoveryRequest{version_info=1, node=2, resource_names=3, type_url=4, response_nonce=5, error_detail=6}. */
export function parseDiscoveryRequest(buf: Buffer): ParsedDiscoveryRequest {
  const at = { i: 0 };
  let version_info = '';
  let type_url = '';
  let response_nonce = '';
  let node: NodeMessage | undefined;
  let error_detail: { code?: number; message?: string } | undefined;
  // The names' whole fields (tag and length included, so a list has one encoding): one range of
  // `buf` when they are written together, as every client does; pieces otherwise. An ACK repeats a
  // thousand names and nothing is kept per name.
  let namesStart = -1;
  let namesEnd = -1;
  let scattered: Buffer[] | undefined;
  let nameCount = 0;
  let longestNameBytes = 0;
  let fromCache = false;
  while (at.i < buf.length) {
    const fieldStart = at.i;
    if (namesStart < 0 && buf[fieldStart] === NAMES_TAG) {
      const cached = cachedRunAt(buf, fieldStart);
      if (cached > 0) {
        namesStart = fieldStart;
        namesEnd = at.i = fieldStart + cached;
        nameCount = lastRun!.count;
        longestNameBytes = lastRun!.longest;
        fromCache = true;
        continue;
      }
    }
    // One-byte tags and lengths (every name of an ACK) without the general varint loop.
    const tag = buf[at.i]! < 0x80 ? buf[at.i++]! : readVarint(buf, at);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      readVarint(buf, at);
      continue;
    }
    if (wire === 1) {
      at.i += 8;
      continue;
    }
    if (wire === 5) {
      at.i += 4;
      continue;
    }
    if (wire !== 2) throw new RequestDecodeError(`unsupported wire type ${wire}`);
    const len = at.i < buf.length && buf[at.i]! < 0x80 ? buf[at.i++]! : readVarint(buf, at);
    const i = at.i;
    const end = i + len;
    if (end > buf.length) throw new RequestDecodeError('truncated field');
    switch (field) {
      case 1:
        version_info = buf.toString('utf8', i, end);
        break;
      case 2:
        node = decodeNode(buf.subarray(i, end));
        break;
      case 3:
        nameCount++;
        if (len > longestNameBytes) longestNameBytes = len;
        if (namesStart < 0) namesStart = fieldStart;
        else if (scattered) scattered.push(buf.subarray(fieldStart, end));
        else if (namesEnd !== fieldStart) scattered = [buf.subarray(namesStart, namesEnd), buf.subarray(fieldStart, end)];
        namesEnd = end;
        break;
      case 4:
        type_url = buf.toString('utf8', i, end);
        break;
      case 5:
        response_nonce = buf.toString('utf8', i, end);
        break;
      case 6:
        error_detail = decodeStatus(buf.subarray(i, end));
        break;
      default:
        break; // resource_locators and future fields
    }
    at.i = end;
  }
  const namesBytes = scattered ? Buffer.concat(scattered) : namesStart < 0 ? NO_NAMES : buf.subarray(namesStart, namesEnd);
  if (!fromCache && !scattered && nameCount >= CACHED_RUN_MIN_NAMES)
    lastRun = { bytes: Buffer.from(namesBytes), count: nameCount, longest: longestNameBytes };
  // This request's names are the run's when it was found in or just became the cached run.
  const run = fromCache || (!scattered && nameCount >= CACHED_RUN_MIN_NAMES) ? lastRun : undefined;
  let names: string[] | undefined;
  return {
    version_info,
    type_url,
    response_nonce,
    ...(node ? { node } : {}),
    ...(error_detail ? { error_detail } : {}),
    namesBytes,
    nameCount,
    longestNameBytes,
    get resource_names(): readonly string[] {
      if (names) return names;
      if (run) return (names = run.names ??= namesOf(namesBytes));
      return (names = namesOf(namesBytes));
    },
    nameSet(): ReadonlySet<string> | undefined {
      if (!run) return undefined;
      return (run.set ??= new Set(this.resource_names));
    },
  };
}

/** What the request deserializer hands on when the bytes are not a DiscoveryRequest. */
export interface MalformedRequest {
  readonly malformed: string;
}

/** gRPC request deserializer for SotW methods: never throws, so the stream can answer clearly. */
export function deserializeDiscoveryRequest(buf: Buffer): ParsedDiscoveryRequest | MalformedRequest {
  try {
    return parseDiscoveryRequest(buf);
  } catch (err) {
    return { malformed: (err as Error).message };
  }
}
