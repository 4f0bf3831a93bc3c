/**
 * Which peers to probe in one round (pure). Probing everyone every round costs O(n²) probes per
 * interval cluster-wide; instead each agent probes
 *   - every "near" peer (smoothed RTT below a threshold), nearest first, at most `maxPeers`,
 *   - every suspect peer (failed its last probe, not yet marked unreachable), at most `maxPeers`,
 *   - and a rotating slice of `maxPeers` of the rest, never-measured peers first,
 * so a round costs at most 3·maxPeers probes and the cluster O(n·k) (see docs/probe.md).
 */

export interface PeerView {
  readonly name: string;
  /** Smoothed RTT; undefined when never measured successfully. */
  readonly rttMs: number | undefined;
  readonly reachable: boolean;
  readonly suspect: boolean;
  /** True once the peer was probed at least once. */
  readonly probed: boolean;
}

export interface SelectionInput {
  /** All known peers (without the agent itself), in a stable order (by name). */
  readonly peers: readonly PeerView[];
  readonly maxPeers: number;
  readonly nearRttMs: number;
  /** Where the rotating slice starts (index into the non-near, non-suspect peers); from the last round. */
  readonly cursor: number;
}

export interface Selection {
  readonly names: readonly string[];
  readonly nextCursor: number;
  /** How many of `names` came from each rule, for metrics and tests. */
  readonly near: number;
  readonly suspect: number;
  readonly rotating: number;
}

export function selectPeers(input: SelectionInput): Selection {
  const k = Math.max(1, Math.floor(input.maxPeers));
  const chosen = new Set<string>();
  const near = input.peers
    .filter((p) => p.reachable && p.rttMs !== undefined && p.rttMs < input.nearRttMs)
    .sort((a, b) => a.rttMs! - b.rttMs! || (a.name < b.name ? -1 : 1))
    .slice(0, k);
  for (const p of near) chosen.add(p.name);
  let suspect = 0;
  for (const p of input.peers) {
    if (suspect >= k) break;
    if (p.suspect && !chosen.has(p.name)) {
      chosen.add(p.name);
      suspect++;
    }
  }
  const rest = input.peers.filter((p) => !chosen.has(p.name));
  // Never-probed peers (a node that just joined) jump the queue so they are measured next round.
  const fresh = rest.filter((p) => !p.probed);
  let rotating = 0;
  for (const p of fresh) {
    if (rotating >= k) break;
    chosen.add(p.name);
    rotating++;
  }
  const others = rest.filter((p) => p.probed);
  let cursor = others.length === 0 ? 0 : ((input.cursor % others.length) + others.length) % others.length;
  const take = Math.min(k - rotating, others.length);
  for (let i = 0; i < take; i++) {
    chosen.add(others[cursor]!.name);
    cursor = (cursor + 1) % others.length;
    rotating++;
  }
  return { names: [...chosen], nextCursor: cursor, near: near.length, suspect, rotating };
}
