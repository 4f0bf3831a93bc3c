import { localitiesKey } from '../../engine/assignments.js';
import type { GatewayAssignment, LocalityAssignment } from '../../policy/types.js';
import type { ProtoResource } from '../resources/types.js';
import type { Encoder } from './encode.js';
import type { EncodedResource } from './encoded.js';
import type { CachedResource, ServiceEndpoints } from './snapshot.js';

/** Localities as a string: gateways with equal assignments share one encoded ClusterLoadAssignment. */
export function assignmentSignature(a: GatewayAssignment | undefined): string {
  if (!a) return '';
  // The engine interns equal locality arrays, so most gateways share one array and one signature.
  let s = signatures.get(a.localities);
  if (s === undefined) signatures.set(a.localities, (s = localitiesKey(a.localities)));
  return s;
}
const signatures = new WeakMap<readonly LocalityAssignment[], string>();

export interface ServiceEndpointsInput {
  readonly service: string;
  /** The engine's rows for the service (gateway node → assignment, the unknown-node key included). */
  readonly assignments: ReadonlyMap<string, GatewayAssignment> | undefined;
  readonly unknownKey: string;
  /** Builds the ClusterLoadAssignment for one assignment (reads the model during the build only). */
  build(assignment: GatewayAssignment | undefined): ProtoResource;
  /** Encodings of the previous build of this service, by signature, when its other inputs are unchanged. */
  readonly previous: ReadonlyMap<string, CachedResource> | undefined;
  /** Gateway key → slot, the same for every service of a snapshot (see forKey). */
  readonly keyIndex?: ReadonlyMap<string, number>;
}

const NO_RESOURCE_FP = 0x2d2d2d2d;

/** FNV-1a over a string's UTF-16 units with a seed. */
function fnv1a(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** Avalanche a 32-bit word (murmur3's finaliser). */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** A gateway key's two hashes, which every row of that key mixes with its resource's. */
function keyHashes(key: string): [number, number] {
  return [fnv1a(key, 0x811c9dc5), fnv1a(key, 0x050c5d1f)];
}

/**
 * The hashes of every key of a snapshot's key index, by slot (k1 at 2·slot, k2 at 2·slot + 1): the
 * index is shared by all services of a snapshot, so each key is hashed once, not once per service.
 */
const keyIndexHashes = new WeakMap<ReadonlyMap<string, number>, Int32Array>();
function hashesOf(keyIndex: ReadonlyMap<string, number>): Int32Array {
  let hashes = keyIndexHashes.get(keyIndex);
  if (!hashes) {
    hashes = new Int32Array(2 * keyIndex.size);
    for (const [key, slot] of keyIndex) [hashes[2 * slot], hashes[2 * slot + 1]] = keyHashes(key);
    keyIndexHashes.set(keyIndex, hashes);
  }
  return hashes;
}

/** A service's endpoints, built eagerly for every distinct assignment the engine holds. */
export class BuiltServiceEndpoints implements ServiceEndpoints {
  readonly service: string;
  readonly version: string;
  /** Encodings by assignment signature (the memo the next build reuses). */
  readonly bySignature = new Map<string, CachedResource>();
  private readonly byLocalities = new Map<readonly LocalityAssignment[] | undefined, CachedResource | undefined>();
  private readonly assignments: ReadonlyMap<string, GatewayAssignment> | undefined;
  private readonly unknownKey: string;
  private readonly keyIndex: ReadonlyMap<string, number> | undefined;
  /** The resource of each key of `keyIndex`, by its slot. */
  private readonly byKey: Array<EncodedResource | undefined> = [];

  constructor(input: ServiceEndpointsInput, encoder: Encoder) {
    this.service = input.service;
    this.assignments = input.assignments;
    this.unknownKey = input.unknownKey;
    const resolve = (a: GatewayAssignment | undefined): CachedResource | undefined => {
      const localities = a?.localities;
      if (this.byLocalities.has(localities)) return this.byLocalities.get(localities);
      const sig = assignmentSignature(a);
      let c = this.bySignature.get(sig);
      if (!c) {
        const previous = input.previous?.get(sig);
        c = previous ?? encoder.encode(input.build(a), undefined);
        if (c) this.bySignature.set(sig, c);
      }
      this.byLocalities.set(localities, c);
      return c;
    };
    // An order-free combination of one fingerprint per row (every key of the engine's rows, and the
    // unknown key): no sort, no text, no digest of a thousand lines per service. A row's fingerprint
    // mixes its key's hashes with its resource's content hash, non-linearly in both, so rows that swap
    // resources between keys change the XOR of all rows.
    let rows = 0;
    let hi = 0;
    let lo = 0;
    const addRow = (k1: number, k2: number, c: CachedResource | undefined): void => {
      const fpHi = c?.resource.fpHi ?? NO_RESOURCE_FP;
      const fpLo = c?.resource.fpLo ?? NO_RESOURCE_FP;
      hi ^= mix(mix(k1 ^ fpHi) + fpLo);
      lo ^= mix(mix(k2 ^ fpLo) + Math.imul(fpHi, 0x9e3779b1));
      rows++;
    };
    const assignments = this.assignments;
    const unknownRow = assignments?.get(this.unknownKey);
    this.keyIndex = input.keyIndex;
    // One pass over the key index resolves each slot and fingerprints the rows it covers (at a full
    // build, a million rows); rows of keys outside the index follow.
    let fingerprinted = 0;
    if (this.keyIndex) {
      const hashes = hashesOf(this.keyIndex);
      for (const [key, slot] of this.keyIndex) {
        const own = assignments?.get(key);
        const c = resolve(own ?? unknownRow);
        this.byKey[slot] = c?.resource;
        if (own === undefined && key !== this.unknownKey) continue;
        addRow(hashes[2 * slot]!, hashes[2 * slot + 1]!, c);
        if (own !== undefined) fingerprinted++;
      }
    }
    if (assignments && fingerprinted < assignments.size)
      for (const [key, a] of assignments) if (!this.keyIndex?.has(key)) addRow(...keyHashes(key), resolve(a));
    if (!assignments?.has(this.unknownKey) && !this.keyIndex?.has(this.unknownKey))
      addRow(...keyHashes(this.unknownKey), resolve(undefined));
    this.version = `${rows.toString(36)}-${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;
  }

  private rowOf(key: string): GatewayAssignment | undefined {
    return this.assignments?.get(key) ?? this.assignments?.get(this.unknownKey);
  }

  /** One lookup in the snapshot's shared key index and an array read (views resolve the slot once: `forSlot`). */
  forKey(key: string): EncodedResource | undefined {
    const slot = this.keyIndex?.get(key);
    if (slot !== undefined) return this.byKey[slot];
    return this.byLocalities.get(this.rowOf(key)?.localities)?.resource;
  }

  forSlot(slot: number): EncodedResource | undefined {
    return this.byKey[slot];
  }

  encodings(): Iterable<CachedResource> {
    return this.bySignature.values();
  }
}
