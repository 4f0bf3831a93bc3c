import { encodeResource, ResourceEncodeError } from './encoded.js';
import { referencesOf } from './references.js';
import type { ProtoResource } from '../resources/types.js';
import type { BuildError, CachedResource } from './snapshot.js';

/**
 * Encodes builder output for one snapshot build, reusing the previous resource (object and bytes)
 * when the content is unchanged and keeping it when encoding fails (the failure is recorded).
 */
export class Encoder {
  readonly errors: BuildError[] = [];

  encode(r: ProtoResource, previous: CachedResource | undefined): CachedResource | undefined {
    try {
      const resource = encodeResource(r);
      if (previous && previous.resource.version === resource.version) return previous;
      return { resource, refs: referencesOf(r) };
    } catch (err) {
      const message = err instanceof ResourceEncodeError ? err.message : String(err);
      this.errors.push({ typeUrl: r.typeUrl, name: r.name, message });
      return previous;
    }
  }
}

/** A map of resources, or `previous` itself when every entry is the same object (identity is the cheap diff). */
export function reuseIfSame<K, V>(next: Map<K, V>, previous: ReadonlyMap<K, V> | undefined): ReadonlyMap<K, V> {
  if (!previous || previous.size !== next.size) return next;
  for (const [k, v] of next) if (previous.get(k) !== v) return next;
  return previous;
}
