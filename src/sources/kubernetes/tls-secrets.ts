/**
 * Kubernetes Secrets → the certificates gateways serve. A `kubernetes.io/tls` Secret holds
 * base64 `data["tls.crt"]` and `data["tls.key"]` (net-kourier reads the same keys,
 * pkg/generator/caches.go certFieldInSecret / keyFieldInSecret). Errors name the Secret and what is
 * wrong, never any of its bytes. Pure.
 */
import type { TlsKeyPair } from '../../model/tls-secrets.js';
import { asString, isRecord, keyOf, metaOf } from './objects.js';

export const CERT_KEY = 'tls.crt';
export const PRIVATE_KEY_KEY = 'tls.key';
/** Bound on one PEM (a chain of a few certificates is a few KiB). */
export const MAX_PEM_BYTES = 64 * 1024;

export type KeyPairResult = { readonly ok: true; readonly pair: TlsKeyPair } | { readonly ok: false; readonly error: string };

function pemField(data: Record<string, unknown>, key: string, marker: RegExp): string | { error: string } {
  const b64 = asString(data[key]);
  if (!b64) return { error: `has no data["${key}"]` };
  if (b64.length > Math.ceil((MAX_PEM_BYTES * 4) / 3) + 4) return { error: `data["${key}"] is larger than ${MAX_PEM_BYTES} bytes` };
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64.replace(/\s+/g, ''))) return { error: `data["${key}"] is not base64` };
  const pem = Buffer.from(b64, 'base64').toString('utf8');
  if (!marker.test(pem)) return { error: `data["${key}"] is not a PEM ${key === CERT_KEY ? 'certificate' : 'private key'}` };
  return pem;
}

/** The key pair of a Secret, or why it cannot be served. */
export function keyPairFromSecret(o: unknown): KeyPairResult {
  const meta = metaOf(o);
  if (!meta || !isRecord(o)) return { ok: false, error: 'Secret has no metadata.name' };
  const name = keyOf(meta.namespace, meta.name);
  const data = isRecord(o['data']) ? o['data'] : {};
  const cert = pemField(data, CERT_KEY, /-----BEGIN CERTIFICATE-----/);
  if (typeof cert !== 'string') return { ok: false, error: `Secret ${name} ${cert.error}` };
  const key = pemField(data, PRIVATE_KEY_KEY, /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/);
  if (typeof key !== 'string') return { ok: false, error: `Secret ${name} ${key.error}` };
  return { ok: true, pair: { name, certificateChainPem: cert, privateKeyPem: key } };
}
