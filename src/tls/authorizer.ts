import type { PeerCertificate } from 'node:tls';
import { Counter, type Registry } from 'prom-client';
import { identityFromSan } from './identity.js';

/** Where a report came in: each speaks for a node. */
export type ReportChannel = 'xds' | 'lrs' | 'probe' | 'extproc';
export type RefusalReason = 'no_certificate' | 'no_node_identity' | 'node_mismatch';

/** The part of a grpc-js server call the check reads. */
export interface AuthenticatedCall {
  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate };
}

export type Authorization = { readonly ok: true } | { readonly ok: false; readonly reason: RefusalReason; readonly message: string };

export interface NodeAuthorizerOptions {
  /** Off (plaintext or server-only TLS): every claim is accepted, nothing can be checked. */
  readonly mutualTls: boolean;
  readonly trustDomain: string;
  readonly registry: Registry;
}

/**
 * "A reporter speaks only for the node its identity names": with mutual TLS, a probe agent's hello,
 * a gateway's xDS node and its LRS node must name the node of the client certificate's
 * `spiffe://<trust-domain>/node/<name>` SAN. A refusal is counted by channel and reason.
 */
export class NodeAuthorizer {
  private readonly refused: Counter<'channel' | 'reason'>;

  constructor(private readonly opts: NodeAuthorizerOptions) {
    this.refused = new Counter({
      name: 'proxima_peer_refused_total',
      help: 'Reports refused because the client certificate does not name the node they speak for, by channel (xds, lrs, probe, extproc) and reason (no_certificate, no_node_identity, node_mismatch).',
      labelNames: ['channel', 'reason'],
      registers: [opts.registry],
    });
  }

  get enforcing(): boolean {
    return this.opts.mutualTls;
  }

  /** May `call` speak for `claimedNode`? Counts the refusal when not. */
  check(call: AuthenticatedCall, claimedNode: string, channel: ReportChannel): Authorization {
    if (!this.opts.mutualTls) return { ok: true };
    const result = this.judge(call, claimedNode);
    if (!result.ok) this.refused.inc({ channel, reason: result.reason });
    return result;
  }

  private judge(call: AuthenticatedCall, claimedNode: string): Authorization {
    let san: string | undefined;
    try {
      const cert = call.getAuthContext().sslPeerCertificate;
      if (!cert) return { ok: false, reason: 'no_certificate', message: 'no verified client certificate' };
      san = cert.subjectaltname;
    } catch {
      return { ok: false, reason: 'no_certificate', message: 'no verified client certificate' };
    }
    const id = identityFromSan(san, this.opts.trustDomain);
    if (id.kind !== 'node')
      return { ok: false, reason: 'no_node_identity', message: id.kind === 'none' ? id.reason : 'not a node identity' };
    if (id.node !== claimedNode)
      return {
        ok: false,
        reason: 'node_mismatch',
        message: `the client certificate names node "${id.node}", not "${claimedNode.slice(0, 253)}"`,
      };
    return { ok: true };
  }
}
