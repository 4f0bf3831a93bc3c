/**
 * The policy contract: a pure function from what the model knows about one service to a per-gateway
 * assignment of localities (one per node) with priorities and weights. No I/O, no clock, no random.
 */

export type PolicyName = 'even' | 'nearest' | 'faast' | 'proxima' | 'oracle';

/** Ready capacity of one service on one node. */
export interface NodeCapacity {
  readonly node: string;
  /** Number of ready (routable) endpoints on this node. */
  readonly readyEndpoints: number;
  /** Sum of the ready endpoints' concurrency limits. */
  readonly capacity: number;
}

export interface PolicyInput {
  readonly service: string;
  /** Every node that runs (or may run) a gateway, sorted by name. */
  readonly gateways: readonly string[];
  /** Nodes with at least one ready endpoint of this service, sorted by name. */
  readonly backends: readonly NodeCapacity[];
  /** RTT in ms from a gateway node to a backend node (measured, else configured, else default). */
  rttMs(from: string, to: string): number;
  /** False when a fresh probe says `to` does not answer from `from`. */
  reachable(from: string, to: string): boolean;
  /**
   * Optional fast path: `rttMs(from[i], to[k].node)` and `reachable(...)` (1/0) for every gateway of
   * `from` and backend of `to`, written at `i * to.length + k`. Exactly the values of the two lookups
   * above; a policy over 1,000 gateways × 1,000 services reads ~10⁷ pairs.
   */
  latencyRows?(from: readonly string[], to: readonly NodeCapacity[], rttMs: Float64Array, reachable: Uint8Array): void;
  /** Smoothed requests/s entering `gateway` for this service (default when unknown). */
  demandRps(gateway: string): number;
  /** Mean service time of one request at a pod on `node` (observed, else default). */
  serviceTimeMs(node: string): number;
  /**
   * Requests/s the pods on `node` served while `serviceTimeMs(node)` was observed, when known. An
   * observed mean includes queueing; with this rate a policy can take the queueing back out.
   * Absent or undefined: `serviceTimeMs` is taken as the pure service time.
   */
  serviceLoadRps?(node: string): number | undefined;
  /**
   * FaaSt's P_j: the mean request latency the pods on `node` measured over the last 10 s, queueing
   * included (queue-proxy `revision_request_latencies`, averaged over the node's pods), ms. Undefined
   * when not measured; the `faast` policy then uses `serviceTimeMs`.
   */
  faastLatencyMs?(node: string): number | undefined;
  /**
   * The mean time requests waited in the queue-proxies of `node` (request latency − app latency, as
   * the pods measured them) and the requests/s they were seen at, over the same window, when the pods
   * measured both. Present only with a pure `serviceTimeMs` (the app latency): a policy can then
   * calibrate how much queueing its model predicts instead of taking it back out of the service time.
   */
  podQueueWait?(node: string): { readonly waitMs: number; readonly rps: number } | undefined;
  /** The previous assignment of this service, for hysteresis. */
  readonly previous?: ReadonlyMap<string, GatewayAssignment>;
  /**
   * When set, only these gateways' assignments are wanted (the problem still spans `gateways`); a
   * policy may leave the others out of its result. See Policy.idleRowIndependent.
   */
  readonly rows?: ReadonlySet<string>;
}

export interface LocalityAssignment {
  readonly node: string;
  /** 0 = receives traffic; higher = failover order. Contiguous from 0. */
  readonly priority: number;
  /** Envoy `load_balancing_weight`, an integer >= 1 (share x 1000 within priority 0). */
  readonly weight: number;
}

/**
 * What one gateway is told for one service. The gateway is its key in the policy's map, not a field:
 * gateways with equal rows share one object (a thousand gateways of a zone often do).
 */
export interface GatewayAssignment {
  readonly service: string;
  /** Sorted by priority, then by weight descending, then by node name. */
  readonly localities: readonly LocalityAssignment[];
  /** Human-readable explanation for /debug/assignments (`reasonText`). */
  readonly reason: Reason;
}

/**
 * A reason, or one formatted when read. A full `proxima` compute at 1,000 nodes × 1,000 services
 * explains 10⁶ rows that only /debug reads: formatting them all (numbers to text, concatenation, the
 * engine hashing each string) cost a quarter of it. An explanation formats plain values captured at
 * compute time, never the policy input (which holds the previous table, and through it every table
 * before), so it reads the same whenever it is read.
 */
export type Reason = string | Explanation;

export interface Explanation {
  text(): string;
}

/** What a model-based policy made of one node's inputs (for /debug and the demo's input checks). */
export interface NodeModelView {
  /** The pure service time the policy's model uses for the node, ms. */
  readonly serviceTimeMs: number;
  /** The squared coefficient of variation of service times its queueing model uses. */
  readonly serviceCv2: number;
  /** How `serviceTimeMs` was obtained. */
  readonly how: string;
}

/** The measured inputs a policy reads (each comes from an estimator with its own window). */
export type PolicyInputKind = 'rtt' | 'demand' | 'service-time' | 'pod-latency';

export interface Policy {
  readonly name: PolicyName;
  /**
   * True when a gateway's assignment depends only on its own row (RTT and reachability from it)
   * and the service's inputs, never on other gateways: the engine may then recompute single rows.
   */
  readonly rowIndependent?: boolean;
  /**
   * True when a gateway without demand for the service depends only on its own row, on the gateways
   * with demand and on its own previous assignment, as long as no reachability changed: after such
   * a row moved, the engine may ask for that row alone (PolicyInput.rows).
   */
  readonly idleRowIndependent?: boolean;
  /** The measured inputs `assign` depends on (none: a fixed rule such as `even`). */
  readonly reads?: readonly PolicyInputKind[];
  /** Assign one service for every gateway in `input.gateways`. */
  assign(input: PolicyInput): Map<string, GatewayAssignment>;
  /** Per backend node, the model inputs `assign` would use (model-based policies only). */
  modelView?(input: PolicyInput): Record<string, NodeModelView>;
}

/** Weight scale: a locality that receives all of a gateway's traffic has weight 1000. */
export const WEIGHT_SCALE = 1000;
