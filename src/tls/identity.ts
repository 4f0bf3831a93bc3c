/**
 * Peer identity from a client certificate (pure). Proxima binds a reporter to a node through a
 * SPIFFE-style URI SAN: `spiffe://<trust-domain>/node/<node-name>` speaks for that node (a node
 * agent, or the gateway on that node); `spiffe://<trust-domain>/scheduler` is the kube-scheduler
 * calling the extender. DNS SANs and the subject CN are ignored: one rule, no ambiguity.
 */

export type PeerIdentity =
  { readonly kind: 'node'; readonly node: string } | { readonly kind: 'scheduler' } | { readonly kind: 'none'; readonly reason: string };

/** URI entries of Node's `subjectaltname` string ("URI:spiffe://…, DNS:…"; values may be quoted). */
export function uriSans(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  const out: string[] = [];
  const re = /(?:^|,\s*)URI:("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = re.exec(subjectaltname); m; m = re.exec(subjectaltname)) {
    const raw = m[1]!;
    out.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return out;
}

const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** The identity a certificate's SANs grant in `trustDomain`; the first matching URI wins. */
export function identityFromSan(subjectaltname: string | undefined, trustDomain: string): PeerIdentity {
  const prefix = `spiffe://${trustDomain}/`;
  const uris = uriSans(subjectaltname);
  for (const uri of uris) {
    if (!uri.startsWith(prefix)) continue;
    const path = uri.slice(prefix.length);
    if (path === 'scheduler') return { kind: 'scheduler' };
    if (path.startsWith('node/') && NODE_NAME.test(path.slice(5))) return { kind: 'node', node: path.slice(5) };
  }
  if (uris.length === 0) return { kind: 'none', reason: 'the client certificate has no URI SAN' };
  return {
    kind: 'none',
    reason: `no URI SAN of the form ${prefix}node/<name> or ${prefix}scheduler (got ${uris.join(', ').slice(0, 200)})`,
  };
}
