import type { NodeCapacity, PolicyInput } from './types.js';

/**
 * RTT and reachability from every gateway of one service's input to each of its backends, in flat
 * typed arrays (row = gateway index, column = backend index), each row filled whole on first use.
 * The solver, the idle-gateway routes, the failover ordering and the explanations all read the same
 * pairs; reading them here costs an array access instead of two string-keyed lookups.
 */
export class LatencyTable {
  readonly width: number;
  readonly rttMs: Float64Array;
  /** 1 = reachable, 0 = not. */
  readonly reachable: Uint8Array;
  private readonly filled: Uint8Array;
  private readonly gatewayIndex = new Map<string, number>();
  private readonly backendIndex = new Map<string, number>();
  private lastGateway: string | undefined;
  private lastOffset = -1;

  constructor(
    private readonly input: PolicyInput,
    readonly backends: readonly NodeCapacity[],
  ) {
    input.gateways.forEach((g, i) => this.gatewayIndex.set(g, i));
    backends.forEach((b, j) => this.backendIndex.set(b.node, j));
    this.width = backends.length;
    this.rttMs = new Float64Array(input.gateways.length * this.width);
    this.reachable = new Uint8Array(input.gateways.length * this.width);
    this.filled = new Uint8Array(input.gateways.length);
  }

  /** Column of `node`, undefined when it is not a backend. */
  column(node: string): number | undefined {
    return this.backendIndex.get(node);
  }

  /** Offset of `gateway`'s row in `rttMs` / `reachable` (filled), or -1 when it is not a gateway of the input. */
  offsetOf(gateway: string): number {
    if (gateway === this.lastGateway) return this.lastOffset;
    const i = this.gatewayIndex.get(gateway);
    this.lastGateway = gateway;
    this.lastOffset = i === undefined ? -1 : i * this.width;
    if (i !== undefined && this.filled[i] === 0) {
      if (this.input.latencyRows) {
        // One pass by destination fills every row: most callers walk every gateway anyway.
        this.input.latencyRows(this.input.gateways, this.backends, this.rttMs, this.reachable);
        this.filled.fill(1);
      } else {
        this.filled[i] = 1;
        this.fill(gateway, this.lastOffset);
      }
    }
    return this.lastOffset;
  }

  private fill(gateway: string, at: number): void {
    for (let j = 0; j < this.width; j++) {
      const b = this.backends[j]!.node;
      this.rttMs[at + j] = this.input.rttMs(gateway, b);
      this.reachable[at + j] = this.input.reachable(gateway, b) ? 1 : 0;
    }
  }
}
