import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** Where a listener's certificate, key and (for mTLS) client CA come from. */
export interface TlsFiles {
  readonly certPath: string;
  readonly keyPath: string;
  /** PEM bundle of CAs whose client certificates are accepted; set = mutual TLS. */
  readonly clientCaPath?: string;
}

/** One consistent, validated set of PEM bytes. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  /** sha256 over all bytes: equal digests, nothing changed. */
  readonly digest: string;
  /** The leaf certificate's validity end, for logs and metrics. */
  readonly notAfter: string;
}

export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';
}

/**
 * Read and check the files: the certificate parses, the key belongs to it, the CA bundle parses,
 * and Node can build a secure context from them. Throws TlsMaterialError with the file at fault.
 * Reading goes through symlinks, so a Secret volume's `..data` swap is seen as new content.
 */
export function loadTlsMaterial(files: TlsFiles): TlsMaterial {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new TlsMaterialError(`${what} ${path}: ${(err as Error).message}`);
    }
  };
  const cert = read(files.certPath, 'certificate');
  const key = read(files.keyPath, 'private key');
  const ca = files.clientCaPath ? read(files.clientCaPath, 'client CA') : undefined;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new TlsMaterialError(`certificate ${files.certPath} is not a PEM certificate: ${(err as Error).message}`);
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not match the certificate');
  } catch (err) {
    throw new TlsMaterialError(`private key ${files.keyPath}: ${(err as Error).message}`);
  }
  if (ca) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new TlsMaterialError(`client CA ${files.clientCaPath}: not a PEM certificate: ${(err as Error).message}`);
    }
  }
  try {
    createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
  } catch (err) {
    throw new TlsMaterialError(`cannot build a TLS context from ${files.certPath}: ${(err as Error).message}`);
  }
  const h = createHash('sha256').update(cert).update('\0').update(key);
  if (ca) h.update('\0').update(ca);
  return { cert, key, ...(ca ? { ca } : {}), digest: h.digest('hex'), notAfter: leaf.validTo };
}
