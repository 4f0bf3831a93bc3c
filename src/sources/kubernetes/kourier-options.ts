/**
 * What makes the Kubernetes source a drop-in for net-kourier's controller: where its ConfigMaps and
 * gateway live, the default certificate from the environment, the certificate store the xDS side
 * serves over SDS, and leader election. Parsed once, frozen.
 */
import type { TlsSecretStore } from '../../model/tls-secrets.js';
import type { ProbePorts } from './readiness-probe.js';

export interface LeaderElectionOptions {
  /** Lease `namespace/name` (net-kourier: the controller's namespace). */
  readonly lease: string;
  /** This replica's identity (holderIdentity). */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface KourierOptions {
  /** Namespace of config-kourier and config-network (net-kourier: SYSTEM_NAMESPACE, knative-serving). */
  readonly systemNamespace: string;
  /** Namespace of the gateway and `cluster-cert-secret` (kourier-system). */
  readonly gatewayNamespace: string;
  /** CERTS_SECRET_NAMESPACE / CERTS_SECRET_NAME (config-kourier wins). */
  readonly envCertsSecret?: { readonly namespace: string; readonly name: string };
  /** KOURIER_EXTAUTHZ_* (flags --extauthz-*) under config-kourier's key names; they win when the host is set. */
  readonly envExtAuthz?: Readonly<Record<string, string>>;
  /** Minimum TLS version of the gateways' HTTPS listeners (net-kourier fixes TLS 1.2). */
  readonly minimumTlsVersion?: 'TLSv1_2' | 'TLSv1_3';
  /** Where the source puts the certificates the gateways need (the xDS side serves them over SDS). */
  readonly tlsSecrets?: TlsSecretStore;
  /** Without it this replica writes status and finalizers alone (a single replica). */
  readonly leaderElection?: LeaderElectionOptions;
  /**
   * Knative's readiness probe (readiness-probe.ts): a KIngress is Ready only once every gateway pod
   * answers its probe with the ingress hash. Unset: Ready once every connected gateway ACKed.
   */
  readonly readinessProbe?: { readonly ports: ProbePorts; readonly timeoutMs: number; readonly retryMs: number };
  /**
   * List and watch only Secrets with this label selector (net-kourier's
   * ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID: `networking.internal.knative.dev/certificate-uid`).
   * Unset: every Secret, as net-kourier by default.
   */
  readonly secretLabelSelector?: string;
  /** Old clusters stay this long after nothing routes to them (net-kourier cluster_cache.go: 15 s). */
  readonly clusterGraceMs: number;
}

export const DEFAULT_KOURIER_OPTIONS: KourierOptions = Object.freeze({
  systemNamespace: 'knative-serving',
  gatewayNamespace: 'kourier-system',
  clusterGraceMs: 15_000,
});

export function kourierOptions(over: Partial<KourierOptions> | undefined): KourierOptions {
  return Object.freeze({ ...DEFAULT_KOURIER_OPTIONS, ...(over ?? {}) });
}
