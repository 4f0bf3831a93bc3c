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

/** DiscoveryResponse{version_info=1, resources=2 (Any), type_url=4, nonce=5, control_plane=6}. */
export function encodeSotwResponse(r: SotwResponseFields): Buffer {
  const parts: Buffer[] = [stringField(1, r.versionInfo)];
  let length = parts[0]!.length;
  for (const res of r.resources) {
    parts.push(res.sotwEntry);
    length += res.sotwEntry.length;
  }
  const tail = [stringField(4, r.typeUrl), stringField(5, r.nonce), SOTW_CONTROL_PLANE];
  for (const t of tail) length += t.length;
  parts.push(...tail);
  return Buffer.concat(parts, length);
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
export function encodeDeltaResponse(r: DeltaResponseFields): Buffer {
  const parts: Buffer[] = [stringField(1, r.systemVersionInfo)];
  for (const res of r.resources) parts.push(deltaEntry(res));
  parts.push(stringField(4, r.typeUrl), stringField(5, r.nonce));
  for (const name of r.removed) parts.push(stringField(6, name));
  parts.push(DELTA_CONTROL_PLANE);
  return Buffer.concat(parts);
}
