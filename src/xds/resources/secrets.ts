import { isTrustedCa, type TlsMaterial } from '../../model/tls-secrets.js';
import { TypeUrl, type ProtoResource } from './types.js';

/**
 * A certificate or a CA bundle as an SDS resource (envoy.extensions.transport_sockets.tls.v3.Secret):
 * a key pair becomes `tls_certificate`, named like the listeners' `tls_certificate_sds_secret_configs`
 * entry (`namespace/name`); a CA bundle becomes `validation_context.trusted_ca`, named like the
 * clusters' `validation_context_sds_secret_config`. The PEM bytes go in `inline_bytes`: SDS is the
 * one place Envoy receives them (never LDS or CDS). Pure.
 */
export function buildSdsSecret(material: TlsMaterial): ProtoResource {
  const body = isTrustedCa(material)
    ? { validation_context: { trusted_ca: { inline_bytes: Buffer.from(material.trustedCaPem, 'utf8') } } }
    : {
        tls_certificate: {
          certificate_chain: { inline_bytes: Buffer.from(material.certificateChainPem, 'utf8') },
          private_key: { inline_bytes: Buffer.from(material.privateKeyPem, 'utf8') },
        },
      };
  return { name: material.name, typeUrl: TypeUrl.Secret, value: { name: material.name, ...body } };
}
