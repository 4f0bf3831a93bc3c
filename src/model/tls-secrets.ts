/**
 * Certificates the gateways serve, by Secret `namespace/name`, kept apart from the ModelStore so the
 * key material never appears in model dumps, /debug views or logs: only names and fingerprints leave
 * this store (toJSON redacts). The Kubernetes source fills it; the xDS side serves it over SDS.
 */
import { createHash } from 'node:crypto';

export interface TlsKeyPair {
  /** Secret `namespace/name`; also the SDS resource name the listeners refer to. */
  readonly name: string;
  /** PEM certificate chain (Secret key `tls.crt`). */
  readonly certificateChainPem: string;
  /** PEM private key (Secret key `tls.key`). */
  readonly privateKeyPem: string;
}

export type TlsSecretsListener = (changedNames: ReadonlySet<string>) => void;

/** A short fingerprint of a key pair (sha256 of both PEMs, 16 hex): safe to log and compare. */
export function keyPairFingerprint(p: TlsKeyPair): string {
  return createHash('sha256').update(p.certificateChainPem).update('\0').update(p.privateKeyPem).digest('hex').slice(0, 16);
}

export class TlsSecretStore {
  private pairs = new Map<string, TlsKeyPair>();
  private readonly listeners = new Set<TlsSecretsListener>();

  /** Replace the whole set; listeners hear the names added, changed or removed (nothing when equal). */
  replace(pairs: readonly TlsKeyPair[]): ReadonlySet<string> {
    const next = new Map(pairs.map((p) => [p.name, p] as const));
    const changed = new Set<string>();
    for (const [name, p] of next) {
      const old = this.pairs.get(name);
      if (!old || old.certificateChainPem !== p.certificateChainPem || old.privateKeyPem !== p.privateKeyPem) changed.add(name);
    }
    for (const name of this.pairs.keys()) if (!next.has(name)) changed.add(name);
    this.pairs = next;
    if (changed.size > 0) for (const l of this.listeners) l(changed);
    return changed;
  }

  get(name: string): TlsKeyPair | undefined {
    return this.pairs.get(name);
  }

  names(): string[] {
    return [...this.pairs.keys()].sort();
  }

  onChange(listener: TlsSecretsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Names and fingerprints only. */
  toJSON(): Record<string, string> {
    return Object.fromEntries(this.names().map((n) => [n, keyPairFingerprint(this.pairs.get(n)!)]));
  }
}
