import type { ResourceDiff, Subscription } from '../cache/diff.js';
import type { EncodedResource } from '../snapshot/encoded.js';
import { TypeUrl } from '../resources/types.js';
import { HeldResources } from './held.js';

/** A rejected response as the client reported it. */
export interface NackRecord {
  readonly version: string;
  readonly nonce: string;
  readonly message: string;
  readonly atMs: number;
}

/** LDS and CDS are state-of-the-world in SotW (a missing resource means deleted); EDS/RDS are not. */
export function isFullStateType(typeUrl: string): boolean {
  return typeUrl === TypeUrl.Listener || typeUrl === TypeUrl.Cluster;
}

/**
 * Per stream and type: the subscription, what the client holds (what was last sent, a NACKed
 * version included), and the ACK/NACK record. SotW and Delta both keep exactly this.
 */
export class TypeState implements Subscription {
  wildcard = false;
  /** Replaced, never changed in place: a held `WholeSet` may index by it, and other streams may share it. */
  names: ReadonlySet<string> = new Set<string>();
  /** A named subscription was seen; from then on an empty SotW list no longer means wildcard. */
  namedOnce = false;
  /** Raw bytes of the last SotW resource_names list (see parseDiscoveryRequest). */
  namesBytes: Buffer | undefined;
  /** The type has been requested on this stream. */
  requested = false;
  readonly held = new HeldResources();
  /** Nonce → version of responses the client has not answered yet (the latest last). */
  readonly pending = new Map<string, string>();
  lastNonce: string | undefined;
  versionSent: string | undefined;
  versionAcked: string | undefined;
  lastNack: NackRecord | undefined;
  responses = 0;
  acks = 0;
  nacks = 0;

  constructor(readonly typeUrl: string) {}

  get heldVersion(): string {
    return this.held.version;
  }

  hold(r: EncodedResource): void {
    this.held.hold(r);
  }

  forget(name: string): void {
    this.held.forget(name);
  }

  /** Apply a diff to what the client holds; `keepRemoved` defers deletions (make-before-break). */
  apply(diff: ResourceDiff, keepRemoved = false): void {
    if (diff.whole) this.held.holdWhole(diff.whole);
    else for (const r of diff.upserts) this.hold(r);
    for (const n of diff.dropped) this.forget(n);
    if (!keepRemoved) for (const n of diff.removed) this.forget(n);
  }

  /** Remember an unanswered response; only the last few nonces are kept. */
  sent(nonce: string, version: string): void {
    this.lastNonce = nonce;
    this.versionSent = version;
    this.responses++;
    this.pending.set(nonce, version);
    if (this.pending.size > 16) this.pending.delete(this.pending.keys().next().value!);
  }

  /**
   * SotW: a non-empty list replaces the subscription; empty = wildcard until the first named one.
   * `shared`: the same names as a set other streams may hold too (kept as is, never changed).
   */
  setSotwNames(names: readonly string[], shared?: ReadonlySet<string>): boolean {
    const beforeWildcard = this.wildcard;
    if (shared !== undefined && shared === this.names && this.namedOnce && !this.wildcard) return false;
    if (
      names.length > 0 &&
      this.namedOnce &&
      !names.includes('*') &&
      !this.wildcard &&
      names.length === this.names.size &&
      names.every((n) => this.names.has(n))
    )
      return false;
    const before = this.names;
    if (names.length === 0) {
      this.wildcard = !this.namedOnce;
      this.names = new Set();
    } else {
      this.namedOnce = true;
      this.wildcard = names.includes('*');
      if (shared && !this.wildcard) this.names = shared;
      else {
        const next = new Set(names);
        next.delete('*');
        this.names = next;
      }
    }
    return beforeWildcard !== this.wildcard || before.size !== this.names.size || [...before].some((n) => !this.names.has(n));
  }

  /** Delta: apply subscribe/unsubscribe; an empty first subscribe list is the legacy wildcard. */
  updateDeltaNames(subscribe: readonly string[], unsubscribe: readonly string[], first: boolean): boolean {
    let changed = false;
    if (first && subscribe.length === 0) {
      this.wildcard = true;
      changed = true;
    }
    let names: Set<string> | undefined;
    const edit = (): Set<string> => (names ??= new Set(this.names));
    for (const n of subscribe) {
      if (n === '*') {
        changed ||= !this.wildcard;
        this.wildcard = true;
      } else if (!this.names.has(n) && !names?.has(n)) {
        edit().add(n);
        changed = true;
      }
    }
    for (const n of unsubscribe) {
      if (n === '*') {
        changed ||= this.wildcard;
        this.wildcard = false;
      } else if ((names ?? this.names).has(n)) {
        edit().delete(n);
        changed = true;
      }
    }
    if (names) this.names = names;
    return changed;
  }
}
