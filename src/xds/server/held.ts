import type { HeldLookup, Subscription, TypeView } from '../cache/diff.js';
import { VersionSet, type EncodedResource } from '../snapshot/encoded.js';

/**
 * Everything a stream was sent at once as a whole view: the (immutable) view of the snapshot it came
 * from and the subscription it answered. A resource is in it when the subscription wants it and the
 * view has it, exactly the upserts of a diff against nothing held (see `diffResources`).
 */
interface WholeView {
  readonly view: TypeView;
  readonly wildcard: boolean;
  readonly names: ReadonlySet<string>;
}

/** Differences past this many names turn the whole view back into one map (see `compact`). */
const MAX_DIFFERENCES = 64;

/**
 * What a client holds of one type, as name → resource, with an order-independent version.
 *
 * After a restart a thousand streams are each sent every resource of their types at once. Copying
 * those into a map per stream and type (two million entries, most of the resync's garbage) is what a
 * stream used to do; now it keeps the view it was sent by reference, plus its own differences since
 * (usually a handful of changed names). Past `MAX_DIFFERENCES` it folds into a plain map, so an old
 * snapshot is not kept alive by a stream for long.
 */
export class HeldResources implements HeldLookup {
  private whole: WholeView | undefined;
  /** Differences from `whole` (undefined value: forgotten), or everything when there is no whole view. */
  private own = new Map<string, EncodedResource | undefined>();
  private readonly versions = new VersionSet();

  get size(): number {
    return this.versions.size;
  }

  /** Order-independent hash of the held set (count + XOR of fingerprints). */
  get version(): string {
    return this.versions.version;
  }

  get(name: string): EncodedResource | undefined {
    if (this.own.has(name)) return this.own.get(name);
    return this.whole ? this.fromWhole(this.whole, name) : undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  *keys(): IterableIterator<string> {
    for (const r of this.values()) yield r.name;
  }

  *values(): IterableIterator<EncodedResource> {
    const whole = this.whole;
    if (whole)
      for (const name of wholeNames(whole)) {
        if (this.own.has(name)) continue;
        const r = whole.view.get(name);
        if (r) yield r;
      }
    for (const r of this.own.values()) if (r) yield r;
  }

  hold(r: EncodedResource): void {
    const old = this.get(r.name);
    if (old) this.versions.remove(old);
    this.own.set(r.name, r);
    this.versions.add(r);
    this.compact();
  }

  forget(name: string): void {
    const old = this.get(name);
    if (!old) return;
    this.versions.remove(old);
    if (this.whole && this.fromWhole(this.whole, name)) this.own.set(name, undefined);
    else this.own.delete(name);
    this.compact();
  }

  /**
   * Hold exactly `resources`, which are every resource `subscription` wants in `view` (the upserts of
   * a diff against nothing held). Only when nothing is held; the subscription's name set must not be
   * changed afterwards (TypeState replaces it instead).
   */
  holdWhole(view: TypeView, subscription: Subscription, resources: readonly EncodedResource[]): void {
    if (this.versions.size > 0 || this.own.size > 0) {
      for (const r of resources) this.hold(r);
      return;
    }
    this.whole = { view, wildcard: subscription.wildcard, names: subscription.names };
    for (const r of resources) this.versions.add(r);
  }

  private fromWhole(whole: WholeView, name: string): EncodedResource | undefined {
    return whole.names.has(name) || (whole.wildcard && whole.view.inWildcard(name)) ? whole.view.get(name) : undefined;
  }

  private compact(): void {
    if (!this.whole || this.own.size <= MAX_DIFFERENCES) return;
    const all = new Map<string, EncodedResource | undefined>();
    for (const r of this.values()) all.set(r.name, r);
    this.whole = undefined;
    this.own = all;
  }
}

/** The names a whole view holds candidates for, each once (the order of `diffResources`' fast path). */
function* wholeNames(whole: WholeView): IterableIterator<string> {
  if (whole.wildcard) yield* whole.view.wildcardNames();
  for (const name of whole.names) if (!(whole.wildcard && whole.view.inWildcard(name))) yield name;
}
