import { RowMemo } from './row-memo.js';
import { memoizeInput, type MemoizedInput } from './latency-table.js';
import { assemble, byLatency } from './tiers.js';
import type { Explanation, GatewayAssignment, NodeCapacity, Policy, PolicyInput } from './types.js';

/**
 * Latency only: all traffic to the nearest node with a ready endpoint (the local one when there is
 * one), everything else as failover by latency. Ignores capacity and demand.
 */
export const nearestPolicy: Policy = {
  name: 'nearest',
  rowIndependent: true,
  reads: ['rtt'],
  assign(raw: PolicyInput): Map<string, GatewayAssignment> {
    const out = new Map<string, GatewayAssignment>();
    // Every gateway's row is read (RowMemo): from one table filled in a pass, not pair by pair.
    const input = memoizeInput(raw);
    const memo = new RowMemo<GatewayAssignment>(input, true);
    for (const gateway of input.gateways) {
      const row = memo.row(gateway);
      const same = memo.get(row);
      // The answer depends on the row alone, except that a gateway's own node is called local.
      if (same && same.localities[0]?.node !== gateway) {
        out.set(gateway, same);
        continue;
      }
      const best = nearestOf(input, gateway);
      if (!best) {
        out.set(gateway, { service: input.service, localities: [], reason: 'no ready endpoints' });
        continue;
      }
      const rtt = input.rttMs(gateway, best.node);
      const assignment = assemble(
        input,
        gateway,
        [{ node: best.node, priority: 0, weight: 1000 }],
        new NearestReason(best.node, rtt, best.node === gateway),
      );
      out.set(gateway, assignment);
      if (!same && best.node !== gateway) memo.set(row, assignment);
    }
    return out;
  },
};

/**
 * `byLatency(input, gateway)[0]`: reachable first, then RTT, then name. Read from the gateway's row
 * of the table in one pass when every RTT in it is finite (the order is then a total preorder and the
 * first least element is what the stable sort puts first); otherwise sorted as byLatency does.
 */
function nearestOf(input: MemoizedInput, gateway: string): NodeCapacity | undefined {
  const t = input.table;
  const backends = input.backends;
  const o = t.backends === backends ? t.offsetOf(gateway) : -1;
  if (o < 0) return byLatency(input, gateway)[0];
  let best = -1;
  for (let j = 0; j < backends.length; j++) {
    if (!Number.isFinite(t.rttMs[o + j]!)) return byLatency(input, gateway)[0];
    if (best < 0 || t.compareColumns(o, j, best) < 0) best = j;
  }
  return best < 0 ? undefined : backends[best];
}

/** "nearest: edge-2 at 4.1 ms (local)", formatted when read (a full compute makes 10⁶ of these). */
class NearestReason implements Explanation {
  constructor(
    private readonly node: string,
    private readonly rttMs: number,
    private readonly local: boolean,
  ) {}
  text(): string {
    return `nearest: ${this.node} at ${this.rttMs.toFixed(1)} ms${this.local ? ' (local)' : ''}`;
  }
}
