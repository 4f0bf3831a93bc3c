import type { EncodedResource } from '../snapshot/encoded.js';
import { gatherSotwResponse, type GatheredResponse, type SotwResponseFields } from './wire.js';

/**
 * SotW responses that many streams send byte for byte: a thousand gateways of the same shape get
 * the same clusters, listeners and route configurations, under the same version and, on their first
 * request of a type, the same nonce. The first time a response is seen only its resource list is
 * remembered; the second time its bytes are kept, and every later stream writes those bytes instead
 * of gathering a thousand entries again (gRPC copies them into its own frame, so sharing is safe).
 * A hit requires the very same resource objects in the same order: the version string alone
 * (a content hash) only finds the candidate.
 */
export class SharedSotwResponses {
  private readonly entries = new Map<string, { readonly resources: readonly EncodedResource[]; bytes?: Buffer }>();

  constructor(
    /** Remembered responses; the least recently used is forgotten first. */
    private readonly maxEntries = 64,
    /** Smaller responses are cheap to gather: not worth an entry. */
    private readonly minResources = 2,
  ) {}

  /** The kept bytes of a response seen before, else its parts (gathered when gRPC serializes it). */
  encode(r: SotwResponseFields): Buffer | GatheredResponse {
    if (r.resources.length < this.minResources) return gatherSotwResponse(r);
    const key = `${r.typeUrl}\u0000${r.nonce}\u0000${r.versionInfo}`;
    const seen = this.entries.get(key);
    this.entries.delete(key);
    if (seen && sameResources(seen.resources, r.resources)) {
      seen.bytes ??= gatherSotwResponse(r).toBuffer();
      this.entries.set(key, seen);
      return seen.bytes;
    }
    this.entries.set(key, { resources: r.resources });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return gatherSotwResponse(r);
  }
}

function sameResources(a: readonly EncodedResource[], b: readonly EncodedResource[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
