/** `nearest` before it read rows through a memoised input (issue 14), kept as a reference for tests. */
import { RowMemo } from '../../src/policy/row-memo.js';
import { assemble, byLatency } from '../../src/policy/tiers.js';
import type { GatewayAssignment, Policy, PolicyInput } from '../../src/policy/types.js';

/**
 * Latency only: all traffic to the nearest node with a ready endpoint (the local one when there is
 * one), everything else as failover by latency. Ignores capacity and demand.
 */
export const nearestBeforePolicy: Policy = {
  name: 'nearest',
  rowIndependent: true,
  reads: ['rtt'],
  assign(input: PolicyInput): Map<string, GatewayAssignment> {
    const out = new Map<string, GatewayAssignment>();
    const memo = new RowMemo<GatewayAssignment>(input);
    for (const gateway of input.gateways) {
      const row = memo.row(gateway);
      const same = memo.get(row);
      // The answer depends on the row alone, except that a gateway's own node is called local.
      if (same && same.localities[0]?.node !== gateway) {
        out.set(gateway, { service: input.service, localities: same.localities, reason: same.reason });
        continue;
      }
      const sorted = byLatency(input, gateway);
      const best = sorted[0];
      if (!best) {
        out.set(gateway, { service: input.service, localities: [], reason: 'no ready endpoints' });
        continue;
      }
      const rtt = input.rttMs(gateway, best.node);
      const assignment = assemble(
        input,
        gateway,
        [{ node: best.node, priority: 0, weight: 1000 }],
        `nearest: ${best.node} at ${rtt.toFixed(1)} ms${best.node === gateway ? ' (local)' : ''}`,
      );
      out.set(gateway, assignment);
      if (!same && best.node !== gateway) memo.set(row, assignment);
    }
    return out;
  },
};
