import { LRUCache } from 'lru-cache';

/** Everything a solve reads, flattened: names compared with ===, numbers with Object.is. */
export interface SolveKey {
  readonly names: readonly string[];
  readonly values: Float64Array;
}

/**
 * The last solve of each service with the exact inputs it read. A hit is a key equal element by
 * element, so the memoised value is the one the solve would compute again (the solve is a pure
 * function of its key). An RTT row of a gateway without demand changes no key: the services it
 * touches skip the solve and recompute only that gateway's route.
 */
export class SolveMemo<T> {
  private readonly byService: LRUCache<string, { readonly key: SolveKey; readonly value: T }>;
  hits = 0;
  misses = 0;

  constructor(maxServices = 10_000) {
    this.byService = new LRUCache({ max: maxServices });
  }

  get(service: string, key: SolveKey): T | undefined {
    const e = this.byService.get(service);
    if (e && sameKey(e.key, key)) {
      this.hits++;
      return e.value;
    }
    this.misses++;
    return undefined;
  }

  set(service: string, key: SolveKey, value: T): void {
    this.byService.set(service, { key, value });
  }
}

function sameKey(a: SolveKey, b: SolveKey): boolean {
  if (a.names.length !== b.names.length || a.values.length !== b.values.length) return false;
  for (let i = 0; i < a.names.length; i++) if (a.names[i] !== b.names[i]) return false;
  for (let i = 0; i < a.values.length; i++) if (!Object.is(a.values[i], b.values[i])) return false;
  return true;
}
