/**
 * Knative's ingress readiness probe headers (knative/networking pkg/http/header/header.go): the
 * prober sends `K-Network-Probe: probe` and `K-Network-Hash: override`; the gateway route replaces
 * the hash with the KIngress hash, and the backend echoes it back.
 */
export const HASH_HEADER = 'K-Network-Hash';
export const HASH_VALUE_OVERRIDE = 'override';
export const PROBE_HEADER = 'K-Network-Probe';
export const PROBE_VALUE = 'probe';
export const PROBE_USER_AGENT = 'Knative-Ingress-Probe';
