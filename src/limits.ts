/**
 * Bounds on every network input of `proxima serve`, each with a flag (specs.ts), a default here and
 * a counter of what it refused (near the code that refuses). docs/security.md lists them.
 */
export interface ServeLimits {
  /** Open TCP connections from one remote address, per listener. */
  readonly maxConnectionsPerPeer: number;
  /** Open TCP connections per listener. */
  readonly maxConnections: number;
  /** HTTP/2 concurrent streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxStreamsPerConnection: number;
  /** Largest gRPC message accepted, bytes. */
  readonly maxMessageBytes: number;
  /** Resource names in one xDS request (SotW list, Delta subscribe). */
  readonly maxResourceNames: number;
  /** Characters of a node id, gateway node, locality or resource name. */
  readonly maxNameLength: number;
  /** Localities in one LRS cluster stats entry. */
  readonly maxLocalitiesPerReport: number;
  /** Distinct ids kept for peers the model does not know (probe agents), LRU with expiry. */
  readonly maxTrackedIds: number;
  /** How long such an id is kept without being seen again, ms. */
  readonly trackedIdTtlMs: number;
  /** Labelled series of the per-flow LRS counter. */
  readonly maxMetricSeries: number;
  /** Items in one /debug page (?offset= pages on). */
  readonly maxDebugItems: number;
  /** Pending placements the scheduler extender keeps. */
  readonly maxPendingPlacements: number;
}

export const DEFAULT_SERVE_LIMITS: ServeLimits = Object.freeze({
  maxConnectionsPerPeer: 32,
  maxConnections: 4096,
  maxStreamsPerConnection: 100,
  maxMessageBytes: 4 * 1024 * 1024,
  maxResourceNames: 10_000,
  maxNameLength: 253,
  maxLocalitiesPerReport: 1024,
  maxTrackedIds: 10_000,
  trackedIdTtlMs: 10 * 60_000,
  maxMetricSeries: 10_000,
  maxDebugItems: 500,
  maxPendingPlacements: 1000,
});
