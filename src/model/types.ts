/**
 * The plain data Proxima reasons about. No I/O, no classes with behaviour: sources produce these,
 * the store keeps them, policies read them.
 *
 * Units are in the names: `rttMs`, `serviceTimeMs`, `rps`. Times are milliseconds since the epoch
 * unless a name says otherwise.
 */

/** A Kubernetes node (or an emulated one). Each node runs one gateway. */
export interface NodeInfo {
  readonly name: string;
  /** `topology.kubernetes.io/zone` or the topology file's `zone`; becomes the Envoy locality zone. */
  readonly zone: string;
  /** `topology.kubernetes.io/region`; becomes the Envoy locality region. */
  readonly region: string;
  /** False when Kubernetes reports the node NotReady or probes see it unreachable. */
  readonly ready: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

export type ServiceProtocol = 'http' | 'h2c' | 'grpc';

/** One backend address of a service (a pod, or an activator in Knative proxy mode). */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  /** The node the endpoint runs on. Always a known node (the topology validator enforces it). */
  readonly node: string;
  readonly ready: boolean;
  /** Concurrent requests one endpoint serves before queueing (Knative `containerConcurrency`). */
  readonly capacity: number;
  /** True for an endpoint the scheduler is about to create (extender placement); never routable. */
  readonly pending?: boolean;
}

/**
 * Where a service comes from. Knative pods carry queue-proxy; a plain Service's pods and OpenFaaS
 * functions offer no per-pod latency signal, so their service time is an LRS-only estimate.
 */
export type ServicePlatform = 'knative' | 'openfaas' | 'service';

/** A function (Knative Service / revision, OpenFaaS function, plain Service) with the hosts it answers to. */
export interface Service {
  /** `namespace/name`; also the xDS cluster and EDS name. */
  readonly name: string;
  readonly hosts: readonly string[];
  readonly protocol: ServiceProtocol;
  /** The pods: what the policy assigns, places and weighs. */
  readonly endpoints: readonly Endpoint[];
  /**
   * Knative's activators for this revision, kept out of the policy: gateways get them as the last
   * priority, so scale-from-zero (no ready pod) and failover still go through the activator.
   * Absent or empty when the activator is not to be bypassed (see docs/activator.md).
   */
  readonly activators?: readonly Endpoint[];
  /** Absent: a Knative revision or a topology-file service. */
  readonly platform?: ServicePlatform;
  /**
   * A Kubernetes ExternalName Service: reached by DNS name (a LOGICAL_DNS cluster, as Kourier
   * builds it), never through endpoints or the policy.
   */
  readonly externalName?: { readonly host: string; readonly port: number };
  /**
   * Knative's `system-internal-tls`: the gateway speaks TLS 1.3 to the activator and queue-proxy and
   * verifies their certificate against a CA delivered over SDS (net-kourier ingress_translator.go).
   */
  readonly upstreamTls?: UpstreamTls;
}

/** How a gateway verifies an upstream's certificate. */
export interface UpstreamTls {
  /** DNS SANs accepted (any one of them): `kn-routing` (activator), `kn-user-<namespace>` (queue-proxy). */
  readonly subjectAltNames: readonly string[];
  /** SDS name of the validation context (the trusted CA bundle); never inlined in CDS. */
  readonly trustedCaSecret: string;
}

/** A configured or measured RTT between two nodes. */
export interface LatencyEntry {
  readonly from: string;
  readonly to: string;
  readonly rttMs: number;
}

/** Defaults used when nothing was measured or configured. */
export interface ModelDefaults {
  /** RTT between two distinct nodes with no configured or measured value. */
  readonly rttMs: number;
  /** RTT inside one node (gateway to a pod on the same node). */
  readonly localRttMs: number;
  /** Endpoint capacity when the source gives none. */
  readonly capacity: number;
  /** Mean service time of one request at a pod when nothing was observed. */
  readonly serviceTimeMs: number;
  /** Demand assumed per gateway and service before anything was learned. */
  readonly demandRps: number;
}

export const DEFAULT_MODEL_DEFAULTS: ModelDefaults = Object.freeze({
  rttMs: 50,
  localRttMs: 0.2,
  capacity: 10,
  serviceTimeMs: 10,
  demandRps: 0,
});

/** What a source knows about the world at one moment: the shape of the topology file. */
export interface Topology {
  readonly nodes: readonly NodeInfo[];
  readonly latency: readonly LatencyEntry[];
  readonly services: readonly Service[];
  readonly defaults: ModelDefaults;
}

/** Which gateway listeners a route is served on (Kourier: external 8080, internal 8081). */
export type RouteVisibility = 'external' | 'internal';

/** One weighted target of a route rule (Knative traffic split between revisions). */
export interface RouteSplit {
  /** Service name (`namespace/name`) = the xDS cluster the split sends to. */
  readonly service: string;
  /** Share of the rule's traffic, 0..100; the splits of one rule add up to 100. */
  readonly percent: number;
  /** Request headers added on this split (e.g. `Knative-Serving-Revision`). */
  readonly appendHeaders: Readonly<Record<string, string>>;
}

export interface RouteHeaderMatch {
  readonly name: string;
  readonly exact: string;
}

export interface RouteRule {
  /** Path prefix to match; `/` when absent. With `exactPath`, the whole path (query excluded). */
  readonly pathPrefix: string;
  /** Match `pathPrefix` as the exact path (Envoy `path`), not as a prefix. */
  readonly exactPath?: boolean;
  /** Replace the matched prefix (or exact path) with this before forwarding (Envoy `prefix_rewrite`). */
  readonly prefixRewrite?: string;
  readonly headers: readonly RouteHeaderMatch[];
  readonly splits: readonly RouteSplit[];
  /** Request headers added for every split of this rule. */
  readonly appendHeaders: Readonly<Record<string, string>>;
  /** Upstream timeout; 0 = none (Kourier's default). */
  readonly timeoutMs: number;
  /** Replace the Host header before forwarding (Knative `rewriteHost`, Envoy `host_rewrite_literal`). */
  readonly hostRewrite?: string;
}

/** A certificate served for some hosts (a KIngress `spec.tls` entry): the Secret `namespace/name`, delivered over SDS. */
export interface RouteTls {
  readonly hosts: readonly string[];
  readonly secret: string;
}

/**
 * An HTTP route: hosts and rules, from a Knative Ingress or derived from a topology service
 * (one rule sending 100 % to the service on both listeners).
 */
export interface HttpRoute {
  /** Unique name, e.g. the KIngress `namespace/name` or the service name. */
  readonly name: string;
  readonly hosts: readonly string[];
  readonly visibility: readonly RouteVisibility[];
  readonly rules: readonly RouteRule[];
  /** The KIngress `spec.tls`: SNI filter chains on the HTTPS listener; its rules are also served there. */
  readonly tls?: readonly RouteTls[];
  /** `httpOption: Redirected`: on the external plain-HTTP listener every rule answers 301 to https. */
  readonly httpsRedirect?: boolean;
  /**
   * Knative's readiness hash of the KIngress: gateways get, before every rule, a copy matching
   * `K-Network-Hash: override` that sets `K-Network-Hash: <probeHash>` (knative/networking InsertProbe).
   */
  readonly probeHash?: string;
  /** The KIngress labels: ext_authz context extensions of its virtual hosts (as Kourier sends them). */
  readonly ingressLabels?: Readonly<Record<string, string>>;
}

/**
 * Gateway-wide listener settings (net-kourier's config-kourier / config-network keys that shape
 * listeners), the same for every gateway. Secrets are named `namespace/name`, never inlined.
 */
export interface GatewayConfig {
  /** Default certificate (certs-secret-namespace/-name): fallback chain on the external HTTPS listener. */
  readonly defaultCertificate?: string;
  /** `cluster-cert-secret`: the cluster-local HTTPS listener (8444) serves this certificate. */
  readonly clusterCertificate?: string;
  /** `cipher-suites`; empty = Envoy's defaults. */
  readonly cipherSuites: readonly string[];
  readonly minimumTlsVersion: 'TLSv1_2' | 'TLSv1_3';
  /** `stream-idle-timeout`; 0 disables it. */
  readonly streamIdleTimeoutMs: number;
  readonly trustedHopsCount: number;
  readonly useRemoteAddress: boolean;
  readonly enableProxyProtocol: boolean;
  readonly disableEnvoyServerHeader: boolean;
  /** `listen-ip-addresses`: every listener binds these (first as the address, the rest as additional_addresses). */
  readonly listenIpAddresses: readonly string[];
  /** `enable-service-access-logging` (+ `service-access-log-template`): Envoy's stdout access log. */
  readonly accessLog?: { readonly template?: string };
  /**
   * config-network `system-internal-tls: enabled`: the backend clusters of KIngress splits speak
   * TLS to the activator and queue-proxy (Service.upstreamTls).
   */
  readonly systemInternalTls: boolean;
  /** config-kourier `tracing-*`: OpenTelemetry tracing from every gateway listener (off when unset). */
  readonly tracing?: GatewayTracing;
  /** config-kourier `extauthz-*` (env `KOURIER_EXTAUTHZ_*` wins): Envoy's ext_authz filter on every listener. */
  readonly extAuthz?: GatewayExtAuthz;
}

/** The external authorization service (net-kourier pkg/reconciler/ingress/config/ext_authz.go). */
export interface GatewayExtAuthz {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'grpc' | 'http' | 'https';
  readonly failureModeAllow: boolean;
  readonly maxRequestBytes: number;
  readonly timeoutMs: number;
  /** HTTP services only: prefix of the authorization request path. */
  readonly pathPrefix: string;
  /** gRPC only: send the body as bytes. */
  readonly packAsBytes: boolean;
}

/** Where and how gateways export spans (net-kourier pkg/reconciler/ingress/config/tracing.go). */
export interface GatewayTracing {
  /** `tracing-endpoint` as given (the OTLP/HTTP URI). */
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'grpc' | 'http/protobuf';
  /** 0..1. */
  readonly samplingRate: number;
  readonly serviceName: string;
}

export const DEFAULT_GATEWAY_CONFIG: GatewayConfig = Object.freeze({
  cipherSuites: Object.freeze([]) as readonly string[],
  minimumTlsVersion: 'TLSv1_2',
  streamIdleTimeoutMs: 0,
  trustedHopsCount: 0,
  useRemoteAddress: false,
  enableProxyProtocol: false,
  disableEnvoyServerHeader: false,
  listenIpAddresses: Object.freeze(['0.0.0.0']) as readonly string[],
  systemInternalTls: false,
} as const);

/** The route a topology service implies: all of its hosts, 100 % to it, external and internal. */
export function routeForService(s: Service): HttpRoute {
  return {
    name: s.name,
    hosts: s.hosts,
    visibility: ['external', 'internal'],
    rules: [
      { pathPrefix: '/', headers: [], splits: [{ service: s.name, percent: 100, appendHeaders: {} }], appendHeaders: {}, timeoutMs: 0 },
    ],
  };
}
