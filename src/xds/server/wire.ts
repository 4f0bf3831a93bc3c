import { lengthPrefix, stringField, type EncodedResource } from '../snapshot/encoded.js';

/**
 * Discovery responses assembled from pre-encoded resources: each resource's `Any` bytes are
 * shared by every stream and only small framing is written per response
 * (field numbers from envoy/service/discovery/v3/discovery.proto).
 */

const CONTROL_PLANE_ID = 'proxima';

function controlPlane(fieldNumber: number): Buffer {
  const body = stringField(1, CONTROL_PLANE_ID);
  return Buffer.concat([lengthPrefix(fieldNumber, body.length), body]);
}
const SOTW_CONTROL_PLANE = controlPlane(6);
const DELTA_CONTROL_PLANE = controlPlane(7);

export interface SotwResponseFields {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly resources: readonly EncodedResource[];
}

/**
 * A response as the buffers it is made of, gathered into one only when gRPC serializes it (see
 * serializeResponse): a thousand-cluster EDS response is ~640 KB that is written once per stream,
 * and gathering it into a buffer of its own, which gRPC then copies into its frame, made every
 * resync allocate (and collect) twice the bytes it sends.
 */
export class GatheredResponse {
  constructor(
    readonly parts: readonly Buffer[],
    readonly byteLength: number,
  ) {}

  /** The response in one buffer of its own. */
  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.byteLength);
  }
}

/** What a stream writes: bytes, or parts gathered at serialization. */
export type ResponseBytes = Buffer | GatheredResponse;

/** DiscoveryResponse{version_info=1, resources=2 (Any), type_url=4, nonce=5, control_plane=6}. */
export function gatherSotwResponse(r: SotwResponseFields): GatheredResponse {
  const parts: Buffer[] = [stringField(1, r.versionInfo)];
  let length = parts[0]!.length;
  for (const res of r.resources) {
    parts.push(res.sotwEntry);
    length += res.sotwEntry.length;
  }
  const tail = [stringField(4, r.typeUrl), stringField(5, r.nonce), SOTW_CONTROL_PLANE];
  for (const t of tail) length += t.length;
  parts.push(...tail);
  return new GatheredResponse(parts, length);
}

/** One scratch buffer for every response serialized (it only grows). */
let scratch = Buffer.allocUnsafeSlow(0);

/**
 * The gRPC response serializer of every discovery method: bytes pass through; a gathered response
 * is written into one scratch buffer shared by all responses. That is safe because grpc-js copies
 * what the serializer returns into the message frame it sends before it serializes anything else
 * (@grpc/grpc-js server-interceptors, serializeMessage); the test "xDS server: concurrent large
 * responses on two streams" fails if a grpc-js version stops doing so.
 */
export function serializeResponse(r: ResponseBytes): Buffer {
  if (Buffer.isBuffer(r)) return r;
  if (scratch.length < r.byteLength) scratch = Buffer.allocUnsafeSlow(Math.max(r.byteLength, 2 * scratch.length));
  let at = 0;
  for (const part of r.parts) {
    scratch.set(part, at);
    at += part.length;
  }
  return scratch.subarray(0, at);
}

/** Delta `Resource{version, resource, name}` framed as field 2, built once per encoded resource. */
const deltaEntries = new WeakMap<EncodedResource, Buffer>();
function deltaEntry(res: EncodedResource): Buffer {
  let entry = deltaEntries.get(res);
  if (!entry) {
    const version = stringField(1, res.version);
    const anyPrefix = lengthPrefix(2, res.any.length);
    const name = stringField(3, res.name);
    const length = version.length + anyPrefix.length + res.any.length + name.length;
    entry = Buffer.concat([lengthPrefix(2, length), version, anyPrefix, res.any, name]);
    deltaEntries.set(res, entry);
  }
  return entry;
}

export interface DeltaResponseFields {
  readonly systemVersionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly resources: readonly EncodedResource[];
  readonly removed: readonly string[];
}

/**
 * DeltaDiscoveryResponse{system_version_info=1, resources=2 (Resource{version=1, resource=2,
 * name=3}), type_url=4, nonce=5, removed_resources=6, control_plane=7}.
 */
export function gatherDeltaResponse(r: DeltaResponseFields): GatheredResponse {
  const parts: Buffer[] = [stringField(1, r.systemVersionInfo)];
  for (const res of r.resources) parts.push(deltaEntry(res));
  parts.push(stringField(4, r.typeUrl), stringField(5, r.nonce));
  for (const name of r.removed) parts.push(stringField(6, name));
  parts.push(DELTA_CONTROL_PLANE);
  let length = 0;
  for (const part of parts) length += part.length;
  return new GatheredResponse(parts, length);
}
