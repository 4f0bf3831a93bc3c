import type { GatewayAssignment, Policy, PolicyInput } from './types.js';

/**
 * Knative today: every ready endpoint gets the same share regardless of where the request entered.
 * One priority; each node's weight is its ready endpoint count, so Envoy's locality-weighted round
 * robin gives each endpoint an equal share.
 */
export const evenPolicy: Policy = {
  name: 'even',
  rowIndependent: true,
  reads: [],
  assign(input: PolicyInput): Map<string, GatewayAssignment> {
    const localities = input.backends.map((b) => ({ node: b.node, priority: 0, weight: Math.max(1, b.readyEndpoints) }));
    const every: GatewayAssignment = {
      service: input.service,
      localities,
      reason: localities.length ? `even: every ready endpoint equally (${localities.length} nodes)` : 'no ready endpoints',
    };
    return new Map(input.gateways.map((gateway) => [gateway, every]));
  },
};
