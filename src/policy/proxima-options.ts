/** The `proxima` policy's settings (shared by the policy and its hysteresis). */
export interface ProximaOptions {
  /** Highest utilisation a node is planned for before traffic spills elsewhere (0..1). */
  readonly targetUtilisation: number;
  /** Keep a gateway's previous assignment while every share moved less than this (0..1). */
  readonly hysteresisShare: number;
  /**
   * Keep the whole previous assignment of a service while its predicted mean response time under
   * the current inputs is within this fraction of the new optimum's (flat optima, near-ties between
   * equally good spill targets, estimation noise) and it plans no node past the target.
   */
  readonly hysteresisCost: number;
  /** Shares below this are dropped (a locality is not worth a push for < 1 % of traffic). */
  readonly minShare: number;
  /** Squared coefficient of variation assumed for service times (1 = exponential, conservative). */
  readonly serviceCv2: number;
  /** Segments of the queueing cost curve per node. */
  readonly segments: number;
  /** A second solve cuts the segment around each node's load into this many (1 = one solve only). */
  readonly refineSegments: number;
  /**
   * Use one service time for every node of the service: the load-weighted mean of the per-node
   * estimates. Pods of one revision run the same image with the same resources, and per-node
   * estimates from gateway load reports (Little's law on snapshot in-progress counts) differ mostly by
   * noise, which would otherwise pull traffic off a local pod towards whichever node looked faster.
   */
  readonly poolServiceTime: boolean;
}

export const DEFAULT_PROXIMA_OPTIONS: ProximaOptions = Object.freeze({
  targetUtilisation: 0.8,
  hysteresisShare: 0.05,
  hysteresisCost: 0.05,
  minShare: 0.01,
  serviceCv2: 1,
  segments: 12,
  refineSegments: 8,
  poolServiceTime: true,
});
