import { createHash } from 'node:crypto';
import { envoyProtos } from '../../protos/envoy.js';
import { encodeClusterLoadAssignmentValue } from '../resources/endpoints-wire.js';
import { putVarint, varintSize } from '../../util/varint.js';
import { messageNameOf, TypeUrl, type ProtoResource } from '../resources/types.js';

/**
 * One xDS resource encoded once and shared by every stream that receives it. `any` holds the
 * complete `google.protobuf.Any` message bytes, so the wire layer builds responses by concatenating
 * buffers instead of re-encoding per stream.
 */
export interface EncodedResource {
  readonly name: string;
  readonly typeUrl: TypeUrl;
  /** Content hash of (type, name, bytes): equal content, equal version, across restarts too. */
  readonly version: string;
  /** The version as two 32-bit words, for order-independent set hashes (see VersionSet). */
  readonly fpHi: number;
  readonly fpLo: number;
  /** Encoded `google.protobuf.Any{type_url, value}` (a view into `sotwEntry`). */
  readonly any: Buffer;
  /** The Any framed as field 2 of a DiscoveryResponse: responses are plain concatenations of these. */
  readonly sotwEntry: Buffer;
  /** Size of the encoded resource itself (the Any's value). */
  readonly valueBytes: number;
}

/** Tag + length prefix of a length-delimited protobuf field. */
export function lengthPrefix(fieldNumber: number, length: number): Buffer {
  const tag = (fieldNumber << 3) | 2;
  const out = Buffer.allocUnsafe(varintSize(tag) + varintSize(length));
  putVarint(out, putVarint(out, 0, tag), length);
  return out;
}

/** A length-delimited field holding a UTF-8 string (empty string still written). */
export function stringField(fieldNumber: number, value: string): Buffer {
  const body = Buffer.from(value, 'utf8');
  return Buffer.concat([lengthPrefix(fieldNumber, body.length), body]);
}

/** Tag of field 2, length-delimited (one byte). */
const LENGTH_DELIMITED_FIELD_2 = (2 << 3) | 2;

/** `Any.type_url` fields by type URL: the same few bytes for every resource of a type. */
const typeFields = new Map<string, Buffer>();

/** Encode raw resource bytes as an Any and fingerprint them. Pure apart from hashing. */
export function encodedFromBytes(typeUrl: TypeUrl, name: string, value: Uint8Array): EncodedResource {
  const digest = createHash('sha1').update(typeUrl).update('\0').update(name).update('\0').update(value).digest();
  let typeField = typeFields.get(typeUrl);
  if (!typeField) typeFields.set(typeUrl, (typeField = stringField(1, typeUrl)));
  // Field 2 (the Any) of a DiscoveryResponse holding {type_url = 1, value = 2}, written into one
  // buffer: a full build frames tens of thousands of these.
  const anyLength = typeField.length + 1 + varintSize(value.length) + value.length;
  const prefixLength = 1 + varintSize(anyLength);
  const sotwEntry = Buffer.allocUnsafe(prefixLength + anyLength);
  let at = putVarint(sotwEntry, putVarint(sotwEntry, 0, LENGTH_DELIMITED_FIELD_2), anyLength);
  at += typeField.copy(sotwEntry, at);
  at = putVarint(sotwEntry, putVarint(sotwEntry, at, LENGTH_DELIMITED_FIELD_2), value.length);
  sotwEntry.set(value, at);
  const any = sotwEntry.subarray(prefixLength);
  return {
    name,
    typeUrl,
    version: digest.subarray(0, 8).toString('hex'),
    fpHi: digest.readUInt32BE(0),
    fpLo: digest.readUInt32BE(4),
    any,
    sotwEntry,
    valueBytes: value.length,
  };
}

export class ResourceEncodeError extends Error {
  override readonly name = 'ResourceEncodeError';
}

/**
 * Encode a builder's plain object with the Envoy proto type of its type URL. Throws
 * ResourceEncodeError (with the resource name) on input protobufjs rejects; callers count and skip.
 */
export function encodeResource(resource: ProtoResource): EncodedResource {
  // Endpoints are most of a build: written directly when of the builder's shape (same bytes).
  const direct = resource.typeUrl === TypeUrl.ClusterLoadAssignment ? encodeClusterLoadAssignmentValue(resource.value) : undefined;
  if (direct) return encodedFromBytes(resource.typeUrl, resource.name, direct);
  const type = envoyProtos().type(messageNameOf(resource.typeUrl));
  let bytes: Uint8Array;
  try {
    const message = type.fromObject(resource.value as Record<string, unknown>);
    bytes = type.encode(message).finish();
  } catch (err) {
    throw new ResourceEncodeError(`cannot encode ${resource.typeUrl} "${resource.name}": ${(err as Error).message}`);
  }
  return encodedFromBytes(resource.typeUrl, resource.name, bytes);
}

/**
 * Order-independent hash of a set of resources (XOR of their 64-bit fingerprints plus the count),
 * updated in O(1) per add/remove. A type's SotW version is this over the resources a stream holds,
 * so it is a pure function of content and never moves when nothing changed.
 */
export class VersionSet {
  private hi = 0;
  private lo = 0;
  private count = 0;

  add(r: EncodedResource): void {
    this.hi = (this.hi ^ r.fpHi) >>> 0;
    this.lo = (this.lo ^ r.fpLo) >>> 0;
    this.count++;
  }

  remove(r: EncodedResource): void {
    this.hi = (this.hi ^ r.fpHi) >>> 0;
    this.lo = (this.lo ^ r.fpLo) >>> 0;
    this.count--;
  }

  /** Resources in the set. */
  get size(): number {
    return this.count;
  }

  clear(): void {
    this.hi = 0;
    this.lo = 0;
    this.count = 0;
  }

  get version(): string {
    return `${this.count.toString(36)}-${this.hi.toString(16).padStart(8, '0')}${this.lo.toString(16).padStart(8, '0')}`;
  }
}

/** Version of a whole collection (e.g. a type in the cache), independent of iteration order. */
export function versionOf(resources: Iterable<EncodedResource>): string {
  const set = new VersionSet();
  for (const r of resources) set.add(r);
  return set.version;
}
