import type { TlsKeyPair } from '../../model/tls-secrets.js';
import { TypeUrl, type ProtoResource } from './types.js';

/**
 * A certificate as an SDS resource (envoy.extensions.transport_sockets.tls.v3.Secret), named like
 * the listeners' `tls_certificate_sds_secret_configs` entry (`namespace/name`). The PEM bytes go in
 * `inline_bytes`: SDS is the one place Envoy receives them (never LDS). Pure.
 */
export function buildSdsSecret(pair: TlsKeyPair): ProtoResource {
  return {
    name: pair.name,
    typeUrl: TypeUrl.Secret,
    value: {
      name: pair.name,
      tls_certificate: {
        certificate_chain: { inline_bytes: Buffer.from(pair.certificateChainPem, 'utf8') },
        private_key: { inline_bytes: Buffer.from(pair.privateKeyPem, 'utf8') },
      },
    },
  };
}
