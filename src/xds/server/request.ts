import { createHash } from 'node:crypto';
import { envoyProtos } from '../../protos/envoy.js';
import type { DiscoveryRequestMessage } from './sotw.js';
import type { NodeMessage } from './stream.js';

/**
 * A SotW DiscoveryRequest read field by field. Envoy repeats every subscribed name in every ACK
 * (1,000 EDS names is ~25 KB); `namesKey` holds their raw bytes so an unchanged subscription is
 * recognised with one memcmp and the names are only turned into strings when they changed.
 */
export interface ParsedDiscoveryRequest extends DiscoveryRequestMessage {
  /** Digest of the raw resource_names fields: equal digests, equal subscription lists. */
  readonly namesKey: string;
  /** How many resource_names the request carries and the longest one in UTF-8 bytes (limits without strings). */
  readonly nameCount: number;
  readonly longestNameBytes: number;
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

/** Parse DiscoveryRequest{version_info=1, node=2, resource_names=3, type_url=4, response_nonce=5, error_detail=6}. */
export function parseDiscoveryRequest(buf: Buffer): ParsedDiscoveryRequest {
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new RequestDecodeError('truncated varint');
      const b = buf[i++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new RequestDecodeError('varint too long');
    }
  };
  let version_info = '';
  let type_url = '';
  let response_nonce = '';
  let node: NodeMessage | undefined;
  let error_detail: { code?: number; message?: string } | undefined;
  // Start and end of each name, flat: an ACK repeats a thousand names and most are never read.
  const nameRanges: number[] = [];
  let namesStart = -1;
  let namesEnd = -1;
  let contiguous = true;
  let longestNameBytes = 0;
  while (i < buf.length) {
    const fieldStart = i;
    const tag = varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      varint();
      continue;
    }
    if (wire === 1) {
      i += 8;
      continue;
    }
    if (wire === 5) {
      i += 4;
      continue;
    }
    if (wire !== 2) throw new RequestDecodeError(`unsupported wire type ${wire}`);
    const len = varint();
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
        nameRanges.push(i, end);
        if (len > longestNameBytes) longestNameBytes = len;
        if (namesStart < 0) namesStart = fieldStart;
        else if (namesEnd !== fieldStart) contiguous = false;
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
    i = end;
  }
  const hash = createHash('sha1');
  if (contiguous && namesStart >= 0) hash.update(buf.subarray(namesStart, namesEnd));
  else for (let k = 0; k < nameRanges.length; k += 2) hash.update(buf.subarray(nameRanges[k], nameRanges[k + 1])).update('\0');
  const nameCount = nameRanges.length / 2;
  const namesKey = `${nameCount}:${hash.digest('base64')}`;
  let names: string[] | undefined;
  return {
    version_info,
    type_url,
    response_nonce,
    ...(node ? { node } : {}),
    ...(error_detail ? { error_detail } : {}),
    namesKey,
    nameCount,
    longestNameBytes,
    get resource_names(): readonly string[] {
      if (!names) {
        names = [];
        for (let k = 0; k < nameRanges.length; k += 2) names.push(buf.toString('utf8', nameRanges[k], nameRanges[k + 1]));
      }
      return names;
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
