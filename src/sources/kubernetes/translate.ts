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
import { compareStrings, keyOf } from './objects.js';
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
}

export interface TranslateOptions {
  readonly ingressClass: string;
  readonly defaultCapacity: number;
  /** Translate OpenFaaS functions of this namespace (and route the OpenFaaS gateway). */
  readonly openfaas?: OpenFaasOptions;
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
  let ignoredIngresses = 0;
  const ingresses: IngressTranslation[] = [];
  for (const o of objs.ingresses) {
    if (ingressClassOf(o) !== opts.ingressClass) {
      ignoredIngresses++;
      continue;
    }
    const t = translateIngress(o, lookupService);
    if (!t.name) invalidObjects++;
    else ingresses.push(t);
  }
  ingresses.sort((a, b) => compareStrings(a.key, b.key));
  const routes = ingresses.flatMap((t) => t.routes).sort((a, b) => compareStrings(a.name, b.name));
  const backends = new Map<string, BackendRef>();
  for (const t of ingresses) for (const b of t.backends) if (!backends.has(b.service)) backends.set(b.service, b);
  const { services, stats, dataPaths } = buildServices({
    backends: [...backends.values()],
    routes,
    endpointSlices: objs.endpointSlices,
    revisions: objs.revisions,
    lookupService,
    knownNodes: new Set(nodes.map((n) => n.name)),
    defaultCapacity: opts.defaultCapacity,
    serverlessServices: objs.serverlessServices ?? [],
  });
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
  return {
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
