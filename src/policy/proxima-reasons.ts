import type { NodeQueueModel } from './queueing.js';
import { saturationRps } from './queueing.js';
import { explain, reasonText } from './reason.js';
import { pct } from './shares.js';
import type { Explanation, PolicyInput, Reason } from './types.js';

/*
 * The explanations of the `proxima` policy's rows, formatted when /debug reads them. They are made by
 * top-level functions: a closure made inside `assign` would keep its scope alive, the policy input
 * with it, and through `input.previous` every table before it.
 */

export function keptReason(keepRest: string, now: Reason): Explanation {
  return explain(() => `kept: ${keepRest}; now: ${reasonText(now)}`);
}

export function nearestReason(local: boolean, node: string, rttMs: number): Explanation {
  return explain(() => `no demand known: ${local ? 'local' : `nearest ${node} at ${rttMs.toFixed(1)} ms`}`);
}

/**
 * The explanations of one solve: what they say of a node or of the service once, and per gateway
 * only numbers, in one array (an object per gateway is all the row keeps: 10⁶ rows).
 */
export class SolveText {
  private readonly nodeText = new Map<string, string>();
  /**
   * Per explained gateway: its demand, its number of shares, then backend index, share and RTT per
   * share (the first `used` entries). Sized for one share per gateway, the idle ones' case, so it
   * rarely grows.
   */
  private data: Float64Array;
  private used = 0;
  constructor(
    private readonly models: readonly NodeQueueModel[],
    private readonly backends: readonly string[],
    private readonly backendIndex: ReadonlyMap<string, number>,
    private readonly nodeRps: ReadonlyMap<string, number>,
    private readonly serviceText: string,
    gateways: number,
  ) {
    this.data = new Float64Array(5 * gateways + 16);
  }

  /** The explanation of `gateway`'s shares (the input is read now, not kept). */
  row(input: PolicyInput, gateway: string, demandRps: number, shares: ReadonlyMap<string, number>): Explanation {
    const at = this.used;
    const need = at + 2 + 3 * shares.size;
    if (need > this.data.length) {
      const grown = new Float64Array(Math.max(need, 2 * this.data.length));
      grown.set(this.data.subarray(0, at));
      this.data = grown;
    }
    const d = this.data;
    d[at] = demandRps;
    d[at + 1] = shares.size;
    let p = at + 2;
    shares.forEach((s, n) => {
      d[p++] = this.backendIndex.get(n)!;
      d[p++] = s;
      d[p++] = input.rttMs(gateway, n);
    });
    this.used = p;
    return new SharesReason(this, at);
  }

  private node(i: number): string {
    const n = this.backends[i]!;
    let text = this.nodeText.get(n);
    if (text === undefined) {
      const util = (this.nodeRps.get(n) ?? 0) / saturationRps(this.models[i]!);
      this.nodeText.set(n, (text = `service ${this.models[i]!.serviceTimeMs.toFixed(1)} ms, node util ${pct(util)})`));
    }
    return text;
  }

  format(at: number): string {
    const d = this.data;
    const shares: Array<[number, number, number]> = [];
    for (let k = 0, p = at + 2; k < d[at + 1]!; k++, p += 3) shares.push([d[p]!, d[p + 1]!, d[p + 2]!]);
    const parts = shares
      .sort((a, b) => b[1] - a[1])
      .map(([i, s, rtt]) => `${this.backends[i]!} ${pct(s)} (rtt ${rtt.toFixed(1)} ms, ${this.node(i)}`);
    const head = `demand ${d[at]!.toFixed(1)}${this.serviceText}`;
    return shares.length ? `${head}: ${parts.join(', ')}` : `${head}: no reachable node with ready endpoints`;
  }
}

class SharesReason implements Explanation {
  constructor(
    private readonly solve: SolveText,
    private readonly at: number,
  ) {}
  text(): string {
    return this.solve.format(this.at);
  }
}
