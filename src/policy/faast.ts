import { RowMemo } from './row-memo.js';
import { sharesToLocalities, sortLocalities } from './tiers.js';
import type { GatewayAssignment, Policy, PolicyInput } from './types.js';

/**
 * FaaSt (CloudNet 2024): w_ij = (1/r_ij) / Σ_k (1/r_ik) with r_ij = RTT(i,j) + P_j, where P_j is the
 * mean request latency measured at node j's pods (queueing included when observed). Nodes without
 * ready pods get nothing; everything sits in priority 0 because FaaSt has no failover order. Nodes a
 * probe reports unreachable are left out too (FaaSt's own pings would see them fail).
 */
export const faastPolicy: Policy = {
  name: 'faast',
  assign(input: PolicyInput): Map<string, GatewayAssignment> {
    const out = new Map<string, GatewayAssignment>();
    // The answer depends only on the gateway's RTT/reachability row: compute each distinct row once.
    const memo = new RowMemo<GatewayAssignment>(input);
    for (const gateway of input.gateways) {
      const row = memo.row(gateway);
      const same = memo.get(row);
      if (same) {
        out.set(gateway, { gateway, service: input.service, localities: same.localities, reason: same.reason });
        continue;
      }
      const candidates = input.backends.filter((b) => b.readyEndpoints > 0 && input.reachable(gateway, b.node));
      const inverse = new Map<string, number>();
      for (const b of candidates) {
        const p = input.faastLatencyMs?.(b.node) ?? input.serviceTimeMs(b.node);
        const r = Math.max(0, input.rttMs(gateway, b.node)) + Math.max(0, p);
        // r = 0 would be an infinite weight: treat as a tiny positive latency.
        inverse.set(b.node, 1 / Math.max(r, 1e-3));
      }
      const sum = [...inverse.values()].reduce((a, b) => a + b, 0);
      if (sum === 0) {
        const none: GatewayAssignment = {
          gateway,
          service: input.service,
          localities: [],
          reason: 'no reachable node with ready endpoints',
        };
        out.set(gateway, none);
        memo.set(row, none);
        continue;
      }
      const shares = new Map([...inverse].map(([n, v]) => [n, v / sum] as const));
      // The three largest shares explain the assignment; a reason per gateway must stay small (1M pairs at scale).
      const top = [...shares].sort((a, b) => b[1] - a[1]);
      const parts = top.slice(0, 3).map(([n, s]) => `${n} ${(s * 100).toFixed(1)}% (r ${(1 / inverse.get(n)!).toFixed(1)} ms)`);
      if (top.length > 3) parts.push(`${top.length - 3} more`);
      const assignment: GatewayAssignment = {
        gateway,
        service: input.service,
        localities: sortLocalities(sharesToLocalities(shares, 0)),
        reason: `faast: weight ∝ 1/(RTT + P): ${parts.join(', ')}`,
      };
      out.set(gateway, assignment);
      memo.set(row, assignment);
    }
    return out;
  },
};
