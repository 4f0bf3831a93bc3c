/**
 * Plain Kubernetes Services as routed services. A Service opts in with the label or annotation
 * `proxima.dev/route: "true"`; its endpoints are its EndpointSlices (slices.ts), its capacity the
 * pods' concurrency settings (workloads.ts). Gateways route it
 * - by host: `NAME.NAMESPACE.svc.cluster.local`, `NAME.NAMESPACE.svc`, `NAME.NAMESPACE` on the
 *   internal listener (cluster-local, as Knative's ClusterLocal hosts), plus the hosts listed in
 *   `proxima.dev/hosts` (comma or space separated; `*` for any) on both listeners;
 * - by path prefix: `proxima.dev/path-prefix` (default `/`).
 * The port is `proxima.dev/port` (a Service port name or number), else the first port; a port named
 * or with appProtocol grpc/http2/h2c makes the cluster speak HTTP/2. gRPC proxyless clients dial
 * `xds:///NAME.NAMESPACE.svc.cluster.local` (an API listener per host, as for Knative). Pure.
 */
import type { HttpRoute, RouteRule, Service, ServicePlatform, ServiceProtocol, NodeInfo } from '../../model/types.js';
import { asArray, asString, asStringMap, compareStrings, isRecord, keyOf, metaOf } from './objects.js';
import { endpointsFromSlices, type SliceStats, type ZoneHint } from './slices.js';
import { PodTemplates, type CapacitySource } from './workloads.js';

export const ROUTE_KEY = 'proxima.dev/route';
export const ANNOTATION_HOSTS = 'proxima.dev/hosts';
export const ANNOTATION_PATH_PREFIX = 'proxima.dev/path-prefix';
export const ANNOTATION_PORT = 'proxima.dev/port';
export const CLUSTER_DOMAIN = 'cluster.local';

/** The parts of a core/v1 Service the workload translators read. */
export interface ServiceShape {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly type: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name: string; readonly port: number; readonly appProtocol: string }[];
}

export function serviceShapeOf(o: unknown): ServiceShape | undefined {
  const meta = metaOf(o);
  if (!meta || !isRecord(o)) return undefined;
  const spec = isRecord(o['spec']) ? o['spec'] : {};
  const ports = asArray(spec['ports'])
    .filter(isRecord)
    .map((p) => ({
      name: asString(p['name']) ?? '',
      port: typeof p['port'] === 'number' ? p['port'] : 0,
      appProtocol: asString(p['appProtocol']) ?? '',
    }));
  return {
    namespace: meta.namespace,
    name: meta.name,
    key: keyOf(meta.namespace, meta.name),
    type: asString(spec['type']) ?? 'ClusterIP',
    labels: meta.labels,
    annotations: meta.annotations,
    selector: asStringMap(spec['selector']),
    ports,
  };
}

/** Hosts a Service answers to inside the cluster, most specific first. */
export function clusterLocalHosts(namespace: string, name: string): string[] {
  return [`${name}.${namespace}.svc.${CLUSTER_DOMAIN}`, `${name}.${namespace}.svc`, `${name}.${namespace}`];
}

const H2C = new Set(['http2', 'h2c', 'kubernetes.io/h2c']);

function protocolOf(port: ServiceShape['ports'][number]): ServiceProtocol {
  const names = [port.name.toLowerCase(), port.appProtocol.toLowerCase()];
  if (names.includes('grpc')) return 'grpc';
  return names.some((n) => H2C.has(n)) ? 'h2c' : 'http';
}

/** What /debug shows per translated workload Service. */
export interface WorkloadReport {
  readonly service: string;
  readonly platform: ServicePlatform;
  /** `ok`, or why the Service was left out. */
  readonly outcome: string;
  readonly capacity?: number;
  readonly capacitySource?: CapacitySource;
  readonly zoneHints?: readonly ZoneHint[];
}

export interface WorkloadTranslation {
  readonly services: readonly Service[];
  readonly routes: readonly HttpRoute[];
  readonly reports: readonly WorkloadReport[];
  readonly stats: SliceStats;
}

export interface WorkloadContext {
  readonly slicesByService: ReadonlyMap<string, readonly unknown[]>;
  readonly nodes: readonly NodeInfo[];
  readonly templates: PodTemplates;
  readonly defaultCapacity: number;
}

/** EndpointSlices by the `namespace/name` of the Service they belong to (`kubernetes.io/service-name`). */
export function slicesByService(endpointSlices: readonly unknown[]): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const s of endpointSlices) {
    const meta = metaOf(s);
    const svc = meta?.labels['kubernetes.io/service-name'];
    if (!meta || !svc) continue;
    const k = keyOf(meta.namespace, svc);
    const list = out.get(k) ?? [];
    list.push(s);
    out.set(k, list);
  }
  return out;
}

/** A Service's port by `proxima.dev/port` (name or number), else its first port. */
function chosenPort(s: ServiceShape): ServiceShape['ports'][number] | undefined {
  const want = s.annotations[ANNOTATION_PORT];
  if (want === undefined || want === '') return s.ports[0];
  return s.ports.find((p) => p.name === want || String(p.port) === want);
}

/** The model Service for `s` (endpoints, capacity, protocol), or why it cannot be one. */
export function workloadService(
  s: ServiceShape,
  platform: ServicePlatform,
  hosts: readonly string[],
  ctx: WorkloadContext,
): { service: Service; report: WorkloadReport; stats: SliceStats } | { report: WorkloadReport } {
  const fail = (outcome: string) => ({ report: { service: s.key, platform, outcome } });
  if (s.type === 'ExternalName') return fail('skipped: ExternalName Services have no endpoints to route to');
  const port = chosenPort(s);
  if (!port)
    return fail(s.ports.length ? `skipped: no port matches ${ANNOTATION_PORT}=${s.annotations[ANNOTATION_PORT]}` : 'skipped: no ports');
  const cap = ctx.templates.capacityFor(s.namespace, s.annotations, s.selector, ctx.defaultCapacity);
  const r = endpointsFromSlices({
    slices: ctx.slicesByService.get(s.key) ?? [],
    port: { portName: port.name },
    nodes: ctx.nodes,
    capacity: cap.capacity,
  });
  return {
    service: { name: s.key, hosts: [...hosts].sort(compareStrings), protocol: protocolOf(port), endpoints: r.endpoints, platform },
    report: { service: s.key, platform, outcome: 'ok', capacity: cap.capacity, capacitySource: cap.source, zoneHints: r.hints },
    stats: r.stats,
  };
}

export function addStats(a: SliceStats, b: SliceStats): SliceStats {
  return {
    unknownNode: a.unknownNode + b.unknownNode,
    missingNode: a.missingNode + b.missingNode,
    skippedSlices: a.skippedSlices + b.skippedSlices,
  };
}

export const NO_STATS: SliceStats = Object.freeze({ unknownNode: 0, missingNode: 0, skippedSlices: 0 });

export function isRouteOptIn(s: ServiceShape): boolean {
  return s.labels[ROUTE_KEY] === 'true' || s.annotations[ROUTE_KEY] === 'true';
}

const HOST_RE = /^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/;

/** `proxima.dev/hosts`: valid lower-case host names (or `*`); the rest reported as invalid. */
export function annotatedHosts(value: string | undefined): { hosts: string[]; invalid: string[] } {
  const hosts: string[] = [];
  const invalid: string[] = [];
  for (const h of (value ?? '').split(/[\s,]+/).filter((x) => x !== '')) {
    const lower = h.toLowerCase();
    if (lower.length <= 253 && HOST_RE.test(lower)) hosts.push(lower);
    else invalid.push(h);
  }
  return { hosts: [...new Set(hosts)], invalid };
}

/** One rule sending everything under `pathPrefix` to `service`. */
export function singleServiceRule(service: string, pathPrefix: string): RouteRule {
  return { pathPrefix, headers: [], splits: [{ service, percent: 100, appendHeaders: {} }], appendHeaders: {}, timeoutMs: 0 };
}

/** Plain Services that opted in (`proxima.dev/route: "true"`) → services and routes. */
export function translatePlainServices(services: readonly ServiceShape[], ctx: WorkloadContext): WorkloadTranslation {
  const out: Service[] = [];
  const routes: HttpRoute[] = [];
  const reports: WorkloadReport[] = [];
  let stats = NO_STATS;
  for (const s of services) {
    if (!isRouteOptIn(s)) continue;
    const local = clusterLocalHosts(s.namespace, s.name);
    const extra = annotatedHosts(s.annotations[ANNOTATION_HOSTS]);
    const prefix = s.annotations[ANNOTATION_PATH_PREFIX] ?? '/';
    if (!prefix.startsWith('/')) {
      reports.push({
        service: s.key,
        platform: 'service',
        outcome: `skipped: ${ANNOTATION_PATH_PREFIX} "${prefix}" does not start with /`,
      });
      continue;
    }
    if (extra.invalid.length > 0) {
      reports.push({ service: s.key, platform: 'service', outcome: `skipped: invalid ${ANNOTATION_HOSTS}: ${extra.invalid.join(', ')}` });
      continue;
    }
    const w = workloadService(s, 'service', [...local, ...extra.hosts.filter((h) => !local.includes(h))], ctx);
    reports.push(w.report);
    if (!('service' in w)) continue;
    out.push(w.service);
    stats = addStats(stats, w.stats);
    routes.push({ name: `service:${s.key}#internal`, hosts: local, visibility: ['internal'], rules: [singleServiceRule(s.key, prefix)] });
    const external = extra.hosts.filter((h) => !local.includes(h));
    if (external.length > 0)
      routes.push({
        name: `service:${s.key}#external`,
        hosts: external,
        visibility: ['external', 'internal'],
        rules: [singleServiceRule(s.key, prefix)],
      });
  }
  return { services: out, routes, reports, stats };
}
