/**
 * Certificates the gateways serve, by Secret `namespace/name`, and the CA bundle they verify
 * upstreams with, kept apart from the ModelStore so the
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

/** A CA bundle gateways verify upstream certificates against (an SDS validation context). */
export interface TlsTrustedCa {
  /** The SDS resource name the clusters' upstream TLS contexts refer to. */
  readonly name: string;
  /** PEM CA certificates, concatenated. */
  readonly trustedCaPem: string;
}

/** What one SDS Secret carries: a certificate with its key, or a CA bundle. */
export type TlsMaterial = TlsKeyPair | TlsTrustedCa;

export function isTrustedCa(m: TlsMaterial): m is TlsTrustedCa {
  return 'trustedCaPem' in m;
}

export type TlsSecretsListener = (changedNames: ReadonlySet<string>) => void;

/** A short fingerprint of a key pair or CA bundle (sha256 of its PEMs, 16 hex): safe to log and compare. */
export function keyPairFingerprint(p: TlsMaterial): string {
  const h = createHash('sha256');
  if (isTrustedCa(p)) h.update('ca\0').update(p.trustedCaPem);
  else h.update(p.certificateChainPem).update('\0').update(p.privateKeyPem);
  return h.digest('hex').slice(0, 16);
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  if (isTrustedCa(a) || isTrustedCa(b)) return isTrustedCa(a) && isTrustedCa(b) && a.trustedCaPem === b.trustedCaPem;
  return a.certificateChainPem === b.certificateChainPem && a.privateKeyPem === b.privateKeyPem;
}

export class TlsSecretStore {
  private pairs = new Map<string, TlsMaterial>();
  private readonly listeners = new Set<TlsSecretsListener>();

  /** Replace the whole set; listeners hear the names added, changed or removed (nothing when equal). */
  replace(pairs: readonly TlsMaterial[]): ReadonlySet<string> {
    const next = new Map(pairs.map((p) => [p.name, p] as const));
    const changed = new Set<string>();
    for (const [name, p] of next) {
      const old = this.pairs.get(name);
      if (!old || !sameMaterial(old, p)) changed.add(name);
    }
    for (const name of this.pairs.keys()) if (!next.has(name)) changed.add(name);
    this.pairs = next;
    if (changed.size > 0) for (const l of this.listeners) l(changed);
    return changed;
  }

  get(name: string): TlsMaterial | undefined {
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
