/**
 * Knative's `system-internal-tls` trust chain, as net-kourier builds it
 * (pkg/generator/ingress_translator.go buildTrustChain, checkCertBundle): the `ca.crt` of Secret
 * `<system namespace>/routing-serving-certs` (knative/networking pkg/config ServingRoutingCertName,
 * pkg/certificates CaCertName), then every value of every ConfigMap of the system namespace labelled
 * `networking.knative.dev/trust-bundle`, joined by newlines. A bundle that is not only PEM
 * certificates is left out with a warning; no valid bundle at all is an error. The SANs gateways
 * accept are `kn-routing` (activator) and `kn-user-<namespace>` (queue-proxy;
 * knative/networking pkg/certificates/constants.go). Warnings name the object and key, never bytes.
 * Pure.
 */
import { X509Certificate } from 'node:crypto';
import type { TlsTrustedCa } from '../../model/tls-secrets.js';
import type { UpstreamTls } from '../../model/types.js';
import { asString, compareStrings, isRecord, metaOf } from './objects.js';

export const ROUTING_CERTS_SECRET = 'routing-serving-certs';
export const CA_CERT_KEY = 'ca.crt';
export const TRUST_BUNDLE_LABEL = 'networking.knative.dev/trust-bundle';
/** SDS name of the bundle; the colon keeps it apart from every Secret `namespace/name`. */
export const TRUST_CHAIN_SDS_NAME = 'system-internal-tls:trust-chain';
export const ROUTING_SAN = 'kn-routing';
/** Bound on the whole chain (a public CA bundle is about 200 KiB). */
export const MAX_TRUST_CHAIN_BYTES = 1024 * 1024;

export function userSan(namespace: string): string {
  return `kn-user-${namespace.toLowerCase()}`;
}

/** The upstream TLS settings of a backend in `namespace`. */
export function upstreamTlsFor(namespace: string): UpstreamTls {
  return { subjectAltNames: [ROUTING_SAN, userSan(namespace)], trustedCaSecret: TRUST_CHAIN_SDS_NAME };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]*?)-----END \1-----/y;

/** Why `pem` is not a bundle of certificates only, or undefined when it is. */
export function certBundleError(pem: string): string | undefined {
  const text = pem.trim();
  if (text === '') return 'is empty';
  let i = 0;
  let count = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    PEM_BLOCK.lastIndex = i;
    const m = PEM_BLOCK.exec(text);
    if (!m) return 'contains something other than PEM certificates';
    if (m[1] !== 'CERTIFICATE') return `contains a ${m[1]} block, not only certificates`;
    try {
      new X509Certificate(m[0]);
    } catch {
      return `certificate ${count + 1} does not parse`;
    }
    count++;
    i = PEM_BLOCK.lastIndex;
  }
  return undefined;
}

export interface TrustChainInput {
  readonly systemNamespace: string;
  /** The routing-serving-certs Secret object, if it exists. */
  readonly routingSecret: unknown;
  /** ConfigMaps of the system namespace (only those with the trust-bundle label are read). */
  readonly configMaps: readonly unknown[];
}

export interface TrustChainResult {
  /** Undefined when no valid CA was found. */
  readonly trustedCa?: TlsTrustedCa;
  readonly warnings: readonly string[];
}

export function trustChainFrom(input: TrustChainInput): TrustChainResult {
  const warnings: string[] = [];
  const parts: string[] = [];
  let bytes = 0;
  const add = (where: string, pem: string): void => {
    const why = certBundleError(pem);
    if (why) return void warnings.push(`CA bundle ${where} ${why}; it is ignored`);
    if (bytes + pem.length > MAX_TRUST_CHAIN_BYTES)
      return void warnings.push(`CA bundle ${where} exceeds ${MAX_TRUST_CHAIN_BYTES} bytes in total; it is ignored`);
    bytes += pem.length;
    parts.push(pem);
  };
  const secretName = `Secret ${input.systemNamespace}/${ROUTING_CERTS_SECRET}[${CA_CERT_KEY}]`;
  const data = isRecord(input.routingSecret) && isRecord(input.routingSecret['data']) ? input.routingSecret['data'] : {};
  const b64 = asString(data[CA_CERT_KEY]);
  if (b64) {
    if (b64.length > Math.ceil((MAX_TRUST_CHAIN_BYTES * 4) / 3) + 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64.replace(/\s+/g, '')))
      warnings.push(`CA bundle ${secretName} is not base64 of at most ${MAX_TRUST_CHAIN_BYTES} bytes; it is ignored`);
    else add(secretName, Buffer.from(b64, 'base64').toString('utf8'));
  }
  const labelled = input.configMaps
    .map((o) => ({ o, meta: metaOf(o) }))
    .filter((x) => x.meta && x.meta.namespace === input.systemNamespace && x.meta.labels[TRUST_BUNDLE_LABEL] !== undefined)
    .sort((a, b) => compareStrings(a.meta!.name, b.meta!.name));
  for (const { o, meta } of labelled) {
    const cmData = isRecord(o) && isRecord(o['data']) ? o['data'] : {};
    for (const key of Object.keys(cmData).sort(compareStrings)) {
      const v = cmData[key];
      if (typeof v === 'string') add(`ConfigMap ${input.systemNamespace}/${meta!.name}[${key}]`, v);
    }
  }
  if (parts.length === 0) return { warnings };
  return { trustedCa: { name: TRUST_CHAIN_SDS_NAME, trustedCaPem: parts.join('\n') }, warnings };
}
