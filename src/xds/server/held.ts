import type { HeldLookup, WholeSet } from '../cache/diff.js';
import { VersionSet, type EncodedResource } from '../snapshot/encoded.js';

/** Differences past this many names turn the whole set into one map of the stream's own (see `compact`). */
const MAX_DIFFERENCES = 64;

/**
 * What a client holds of one type, as name → resource, with an order-independent version.
 *
 * After a restart a thousand streams are each sent every resource of their types at once. Copying
 * those into a map per stream and type (two million entries, most of the resync's garbage) is what a
 * stream used to do; now it keeps the list it was sent (`WholeSet`: shared with other streams where
 * the diff could share it) plus its own differences since, usually a handful of changed names. It
 * refers only to resources it was sent, never to a snapshot. Past `MAX_DIFFERENCES` it folds into a
 * plain map, so resources replaced long ago are not kept alive by the list.
 */
export class HeldResources implements HeldLookup {
  private whole: WholeSet | undefined;
  /** Differences from `whole` (`FORGOTTEN`: no longer held), or everything when there is no whole set. */
  private own = new Map<string, EncodedResource | typeof FORGOTTEN>();
  private readonly versions = new VersionSet();

  get size(): number {
    return this.versions.size;
  }

  /** Order-independent hash of the held set (count + XOR of fingerprints). */
  get version(): string {
    return this.versions.version;
  }

  get(name: string): EncodedResource | undefined {
    const own = this.own.get(name);
    if (own !== undefined) return own === FORGOTTEN ? undefined : own;
    return this.whole ? fromWhole(this.whole, name) : undefined;
  }

  /** Every held name (a full diff walks them: an array, not a generator). */
  keys(): string[] {
    return this.values().map((r) => r.name);
  }

  /** Every held resource, each once: the whole list's (where not replaced), then the stream's own. */
  values(): EncodedResource[] {
    const out: EncodedResource[] = [];
    const own = this.own;
    if (this.whole) for (const r of this.whole.list) if (r !== undefined && (own.size === 0 || !own.has(r.name))) out.push(r);
    for (const r of own.values()) if (r !== FORGOTTEN) out.push(r);
    return out;
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
    if (this.whole && fromWhole(this.whole, name)) this.own.set(name, FORGOTTEN);
    else this.own.delete(name);
    this.compact();
  }

  /** Hold exactly what `whole` lists; when something is held already, its resources one by one instead. */
  holdWhole(whole: WholeSet): void {
    const adopt = this.versions.size === 0 && this.own.size === 0;
    if (adopt) this.whole = whole;
    for (const r of whole.list) {
      if (r === undefined) continue;
      if (adopt) this.versions.add(r);
      else this.hold(r);
    }
  }

  private compact(): void {
    if (!this.whole || this.own.size <= MAX_DIFFERENCES) return;
    const all = new Map<string, EncodedResource | typeof FORGOTTEN>();
    for (const r of this.values()) all.set(r.name, r);
    this.whole = undefined;
    this.own = all;
  }
}

/** A name the whole set lists but the stream no longer holds. */
const FORGOTTEN: unique symbol = Symbol('forgotten');

function fromWhole(whole: WholeSet, name: string): EncodedResource | undefined {
  const i = whole.index.get(name);
  return i === undefined ? undefined : whole.list[i];
}
