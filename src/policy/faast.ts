import { RowMemo } from './row-memo.js';
import { sharesToLocalities, sortLocalities } from './tiers.js';
import type { GatewayAssignment, Policy, PolicyInput } from './types.js';

/**
 * FaaSt (Nguyen et al., "FaaSt: A Latency-aware Serverless Scheme for Edge–Cloud Environments", IEEE
 * CloudNet 2024, see README "References"; paper in bonavadeur/ikukantai `docs/publication/CloudNet_2024.pdf`, implementation
 * bonavadeur/miporin `pkg/scraper/kodomo.go`, `okasan.go`):
 * w_ij = (1/r_ij) / Σ_k (1/r_ik) with r_ij = RTT(i,j) + P_j. Its P_j, recomputed every 2 s, is per
 * pod `rate(revision_request_latencies_sum[10s]) / rate(revision_request_latencies_count[10s])` —
 * the queue-proxy's in-pod latency, queue wait included — averaged over node j's pods, and 0 where
 * no request completed in the window (PromQL's NaN, read as 0); here `input.faastLatencyMs` carries
 * exactly that (src/probe/queue-proxy), and `serviceTimeMs` (the LRS estimate, marked as such in
 * /debug) only where no queue-proxy reports (plain Services). Nodes without ready
 * pods get nothing; everything sits in priority 0 because FaaSt has no failover order. Nodes a probe
 * reports unreachable are left out too (FaaSt's own pings would see them fail). Its RTT term is
 * `avg_over_time(latency_between_nodes[10s])`; here the probe's smoothed RTT.
 */
export const faastPolicy: Policy = {
  name: 'faast',
  rowIndependent: true,
  reads: ['rtt', 'pod-latency'],
  assign(input: PolicyInput): Map<string, GatewayAssignment> {
    const out = new Map<string, GatewayAssignment>();
    // The answer depends only on the gateway's RTT/reachability row: compute each distinct row once.
    const memo = new RowMemo<GatewayAssignment>(input, true);
    for (const gateway of input.gateways) {
      const row = memo.row(gateway);
      const same = memo.get(row);
      if (same) {
        out.set(gateway, same);
        continue;
      }
      const candidates = input.backends.filter((b) => b.readyEndpoints > 0 && input.reachable(gateway, b.node));
      const inverse = new Map<string, number>();
      for (const b of candidates) {
        const p = input.faastLatencyMs?.(b.node) ?? input.serviceTimeMs(b.node);
        const r = Math.max(0, input.rttMs(gateway, b.node)) + Math.max(0, p);
        // r = 0 (a local node whose pods completed nothing in the window) would be an infinite weight:
        // FaaSt counts it as 0.1 ms (miporin `WeightedNegative`).
        inverse.set(b.node, 1 / (r > 0 ? r : 0.1));
      }
      const sum = [...inverse.values()].reduce((a, b) => a + b, 0);
      if (sum === 0) {
        const none: GatewayAssignment = {
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
