/**
 * The whole Kubernetes view (informer caches) → what the model should hold. One pure function, so
 * every replica that sees the same objects derives byte-identical nodes, services and routes.
 */
import type { HttpRoute, NodeInfo, Service } from '../../model/types.js';
import { buildServices, type EndpointsStats, type RevisionDataPath } from './endpoints.js';
import {
  ingressClassOf,
  serviceInfoFromKube,
  translateIngress,
  type BackendRef,
  type IngressTranslation,
  type KubeServiceInfo,
} from './ingress.js';
import { nodeFromKube } from './nodes.js';
import { compareStrings, isRecord, keyOf, metaOf } from './objects.js';
import { keyPairFromSecret, type KeyPairResult } from './tls-secrets.js';
import type { TlsMaterial } from '../../model/tls-secrets.js';
import { ROUTING_CERTS_SECRET, trustChainFrom, upstreamTlsFor } from './trust-chain.js';
import type { OpenFaasOptions } from './openfaas.js';
import { translatePlatforms } from './platforms.js';
import type { WorkloadReport } from './services.js';

export interface ClusterObjects {
  readonly nodes: readonly unknown[];
  readonly services: readonly unknown[];
  readonly endpointSlices: readonly unknown[];
  readonly revisions: readonly unknown[];
  readonly ingresses: readonly unknown[];
  /** Knative ServerlessServices: each revision's data-path mode and private Service. */
  readonly serverlessServices?: readonly unknown[];
  /** apps/v1 Deployments: the pods' concurrency settings of plain Services and OpenFaaS functions. */
  readonly deployments?: readonly unknown[];
  /** core/v1 Secrets: the certificates `spec.tls` and the gateway config name. */
  readonly secrets?: readonly unknown[];
  /** ConfigMaps of the system namespace: the `system-internal-tls` trust bundles. */
  readonly configMaps?: readonly unknown[];
}

export interface TranslateOptions {
  readonly ingressClass: string;
  readonly defaultCapacity: number;
  /** Translate OpenFaaS functions of this namespace (and route the OpenFaaS gateway). */
  readonly openfaas?: OpenFaasOptions;
  /**
   * The previous translation: an ingress whose backend Service went missing keeps the routes it
   * had (net-kourier skips such an ingress and its last config stays in the gateway caches).
   */
  readonly previous?: ClusterTranslation;
  /** Certificates named by the gateway config itself (default and cluster-local certificate). */
  readonly gatewaySecrets?: readonly string[];
  /**
   * config-network `system-internal-tls: enabled`: KIngress backends get upstream TLS, verified
   * against the trust chain of this (Knative's system) namespace (trust-chain.ts).
   */
  readonly systemInternalTls?: { readonly systemNamespace: string };
}

export interface ClusterTranslation {
  readonly nodes: readonly NodeInfo[];
  readonly services: readonly Service[];
  /** Routes of every ingress that translated completely, sorted by name. */
  readonly routes: readonly HttpRoute[];
  /** One per KIngress of our class, sorted by key. */
  readonly ingresses: readonly IngressTranslation[];
  /** KIngresses of another class (or none), ignored. */
  readonly ignoredIngresses: number;
  /** Objects without a usable name. */
  readonly invalidObjects: number;
  readonly endpoints: EndpointsStats;
  /** Per Knative revision: SKS mode, Proxima's choice and what the gateways reach first. */
  readonly dataPaths: readonly RevisionDataPath[];
  /** Plain Services and OpenFaaS functions: one report each (outcome, capacity and its source, zone hints). */
  readonly workloads: readonly WorkloadReport[];
  /**
   * The certificates the gateways need (every named Secret that exists and is valid), sorted by
   * name, and the `system-internal-tls` trust chain when enabled.
   */
  readonly tlsSecrets: readonly TlsMaterial[];
  /** KIngresses of our class with a deletionTimestamp (not translated; the leader removes the finalizer). */
  readonly deleting: readonly unknown[];
  /** Named Secrets that are missing or unusable (the messages never carry key material). */
  readonly secretErrors: readonly string[];
}

/**
 * net-kourier fails the translation of an ingress whose `spec.tls` Secret cannot be read
 * ("failed to fetch secret"): here it is pending, so it keeps its previous routes.
 */
function withSecrets(t: IngressTranslation, keyPairs: { get(name: string): KeyPairResult | undefined }): IngressTranslation {
  if (t.outcome.kind !== 'ok') return t;
  for (const name of new Set(t.routes.flatMap((r) => (r.tls ?? []).map((x) => x.secret)))) {
    const r = keyPairs.get(name);
    if (r?.ok) continue;
    const message = r ? r.error : `Secret ${name} does not exist yet`;
    return { ...t, routes: [], outcome: { kind: 'pending', reason: r ? 'InvalidSecret' : 'SecretNotFound', message } };
  }
  return t;
}

/**
 * net-kourier fails every ingress while `system-internal-tls` is on and no valid CA exists ("failed
 * to build trust-chain"): here each is pending, so it keeps its previous routes.
 */
function withTrustChain(t: IngressTranslation, missing: string | undefined): IngressTranslation {
  if (t.outcome.kind !== 'ok' || missing === undefined) return t;
  return { ...t, routes: [], outcome: { kind: 'pending', reason: 'TrustChainMissing', message: missing } };
}

/** A pending ingress (a backend Service is missing) keeps the routes and backends it last had. */
function keepPreviousRoutes(t: IngressTranslation, previous: ClusterTranslation | undefined): IngressTranslation {
  if (t.outcome.kind !== 'pending') return t;
  const prev = previous?.ingresses.find((p) => p.key === t.key);
  if (!prev || prev.routes.length === 0) return t;
  return {
    ...t,
    routes: prev.routes,
    backends: prev.backends,
    warnings: [...t.warnings, `${t.outcome.message}: the previous routes stay in force, as net-kourier keeps them`],
  };
}

/**
 * net-kourier refuses an ingress whose hosts another ingress already serves (ErrDomainConflict,
 * pkg/generator/caches.go). Order-independent here: the older ingress (creationTimestamp, then
 * key) keeps the host; the other loses all its routes and reports DomainConflict.
 */
function markDomainConflicts(ingresses: IngressTranslation[]): void {
  const owner = new Map<string, IngressTranslation>();
  const byAge = ingresses.map((t, i) => [t, i] as const).sort(([a], [b]) => a.createdMs - b.createdMs || compareStrings(a.key, b.key));
  for (const [t, i] of byAge) {
    if (t.routes.length === 0) continue;
    const hosts = new Set(t.routes.flatMap((r) => r.hosts));
    const taken = [...hosts].find((h) => owner.has(h));
    if (taken !== undefined) {
      ingresses[i] = {
        ...t,
        routes: [],
        backends: [],
        outcome: {
          kind: 'conflict',
          reason: 'DomainConflict',
          message: `host ${taken} is already served by KIngress ${owner.get(taken)!.key}`,
        },
      };
      continue;
    }
    for (const h of hosts) owner.set(h, t);
  }
}

/** Decodes a Secret's key pair the first time it is asked for. */
class LazyKeyPairs {
  private readonly decoded = new Map<string, KeyPairResult>();
  constructor(private readonly objects: ReadonlyMap<string, unknown>) {}
  get(name: string): KeyPairResult | undefined {
    let r = this.decoded.get(name);
    if (r) return r;
    const o = this.objects.get(name);
    if (o === undefined) return undefined;
    r = keyPairFromSecret(o);
    this.decoded.set(name, r);
    return r;
  }
}

/**
 * Upstream TLS on the backends of KIngress splits, except those a `rewriteHost` path reaches: as in
 * net-kourier, such a path points at the gateway itself (a DomainMapping's ExternalName Service to
 * kourier-internal), which serves no Knative data-plane certificate.
 */
function withUpstreamTls(services: readonly Service[], routes: readonly HttpRoute[]): Service[] {
  const rewritten = new Set(
    routes.flatMap((r) => r.rules.filter((x) => x.hostRewrite !== undefined).flatMap((x) => x.splits.map((sp) => sp.service))),
  );
  return services.map((s) => (rewritten.has(s.name) ? s : { ...s, upstreamTls: upstreamTlsFor(s.name.slice(0, s.name.indexOf('/'))) }));
}

export function translateCluster(objs: ClusterObjects, opts: TranslateOptions): ClusterTranslation {
  let invalidObjects = 0;
  const nodes: NodeInfo[] = [];
  for (const o of objs.nodes) {
    const n = nodeFromKube(o);
    if (n) nodes.push(n);
    else invalidObjects++;
  }
  nodes.sort((a, b) => compareStrings(a.name, b.name));
  const servicesByKey = new Map<string, KubeServiceInfo>();
  for (const o of objs.services) {
    const s = serviceInfoFromKube(o);
    if (s) servicesByKey.set(keyOf(s.namespace, s.name), s);
    else invalidObjects++;
  }
  const lookupService = (ns: string, name: string): KubeServiceInfo | undefined => servicesByKey.get(keyOf(ns, name));
  const secretsByKey = new Map<string, unknown>();
  for (const o of objs.secrets ?? []) {
    const meta = metaOf(o);
    if (meta) secretsByKey.set(keyOf(meta.namespace, meta.name), o);
  }
  // Only the Secrets something names are decoded, not every Secret of the cluster.
  const keyPairs = new LazyKeyPairs(secretsByKey);
  const internalTls = opts.systemInternalTls;
  const chain = internalTls
    ? trustChainFrom({
        systemNamespace: internalTls.systemNamespace,
        routingSecret: secretsByKey.get(keyOf(internalTls.systemNamespace, ROUTING_CERTS_SECRET)),
        configMaps: objs.configMaps ?? [],
      })
    : undefined;
  const chainMissing =
    chain && !chain.trustedCa
      ? 'system-internal-tls is enabled but no valid CA certificate was found: provide ca.crt in Secret ' +
        `${internalTls!.systemNamespace}/${ROUTING_CERTS_SECRET} or a ConfigMap labelled networking.knative.dev/trust-bundle`
      : undefined;
  let ignoredIngresses = 0;
  const ingresses: IngressTranslation[] = [];
  const deleting: unknown[] = [];
  for (const o of objs.ingresses) {
    if (ingressClassOf(o) !== opts.ingressClass) {
      ignoredIngresses++;
      continue;
    }
    // Being deleted: its routes go at once, on every replica (net-kourier ObserveDeletion).
    if (isRecord(o) && isRecord(o['metadata']) && o['metadata']['deletionTimestamp']) {
      deleting.push(o);
      continue;
    }
    const t = translateIngress(o, lookupService);
    if (!t.name) invalidObjects++;
    else ingresses.push(keepPreviousRoutes(withTrustChain(withSecrets(t, keyPairs), chainMissing), opts.previous));
  }
  ingresses.sort((a, b) => compareStrings(a.key, b.key));
  markDomainConflicts(ingresses);
  const routes = ingresses.flatMap((t) => t.routes).sort((a, b) => compareStrings(a.name, b.name));
  const backends = new Map<string, BackendRef>();
  for (const t of ingresses) for (const b of t.backends) if (!backends.has(b.service)) backends.set(b.service, b);
  const built = buildServices({
    backends: [...backends.values()],
    routes,
    endpointSlices: objs.endpointSlices,
    revisions: objs.revisions,
    lookupService,
    knownNodes: new Set(nodes.map((n) => n.name)),
    defaultCapacity: opts.defaultCapacity,
    serverlessServices: objs.serverlessServices ?? [],
  });
  const { stats, dataPaths } = built;
  const services = chain?.trustedCa ? withUpstreamTls(built.services, routes) : built.services;
  const platforms = translatePlatforms(
    { services: objs.services, endpointSlices: objs.endpointSlices, deployments: objs.deployments ?? [] },
    { nodes, defaultCapacity: opts.defaultCapacity, ...(opts.openfaas ? { openfaas: opts.openfaas } : {}) },
  );
  // A Knative revision's Service stays Knative even when it also opted in.
  const knative = new Set(services.map((s) => s.name));
  const allServices = [...services, ...platforms.services.filter((s) => !knative.has(s.name))].sort((a, b) =>
    compareStrings(a.name, b.name),
  );
  const allRoutes = [
    ...routes,
    ...platforms.routes.filter((r) => r.rules.every((x) => x.splits.every((sp) => !knative.has(sp.service)))),
  ].sort((a, b) => compareStrings(a.name, b.name));
  const endpoints: EndpointsStats = {
    unknownNode: stats.unknownNode + platforms.stats.unknownNode,
    missingNode: stats.missingNode + platforms.stats.missingNode,
    skippedSlices: stats.skippedSlices + platforms.stats.skippedSlices,
  };
  const named = new Set([
    ...(opts.gatewaySecrets ?? []),
    ...ingresses.flatMap((t) => t.routes.flatMap((r) => (r.tls ?? []).map((x) => x.secret))),
  ]);
  const tlsSecrets: TlsMaterial[] = [];
  const secretErrors: string[] = [...(chain?.warnings ?? []), ...(chainMissing ? [chainMissing] : [])];
  for (const name of [...named].sort(compareStrings)) {
    const r = keyPairs.get(name);
    if (r?.ok) tlsSecrets.push(r.pair);
    else secretErrors.push(r ? r.error : `Secret ${name} does not exist`);
  }
  if (chain?.trustedCa) tlsSecrets.push(chain.trustedCa);
  return {
    deleting,
    tlsSecrets,
    secretErrors,
    nodes,
    services: allServices,
    routes: allRoutes,
    ingresses,
    ignoredIngresses,
    invalidObjects,
    endpoints,
    workloads: platforms.reports,
    dataPaths,
  };
}
