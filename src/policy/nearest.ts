import { assemble, byLatency } from './tiers.js';
import type { GatewayAssignment, Policy, PolicyInput } from './types.js';

/**
 * Latency only: all traffic to the nearest node with a ready endpoint (the local one when there is
 * one), everything else as failover by latency. Ignores capacity and demand.
 */
export const nearestPolicy: Policy = {
  name: 'nearest',
  assign(input: PolicyInput): Map<string, GatewayAssignment> {
    const out = new Map<string, GatewayAssignment>();
    for (const gateway of input.gateways) {
      const sorted = byLatency(input, gateway);
      const best = sorted[0];
      if (!best) {
        out.set(gateway, { gateway, service: input.service, localities: [], reason: 'no ready endpoints' });
        continue;
      }
      const rtt = input.rttMs(gateway, best.node);
      out.set(
        gateway,
        assemble(
          input,
          gateway,
          [{ node: best.node, priority: 0, weight: 1000 }],
          `nearest: ${best.node} at ${rtt.toFixed(1)} ms${best.node === gateway ? ' (local)' : ''}`,
        ),
      );
    }
    return out;
  },
};
