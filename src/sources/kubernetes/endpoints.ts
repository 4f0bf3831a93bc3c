/**
 * EndpointSlices (discovery.k8s.io/v1) of the Services that KIngress splits name → model Services.
 * Follows net-kourier (pkg/generator/endpointslice.go, pkg/endpointslice): only IPv4/IPv6 slices,
 * addresses deduplicated across slices and sorted, `ready` nil counts as ready. Unlike Kourier,
 * not-ready endpoints are kept with `ready: false` (the policy ignores them; they show in /debug),
 * and terminating ones are dropped. Capacity is the Revision's `containerConcurrency` (0 or absent:
 * the default). Endpoints on nodes the model does not know are left out and counted; they appear
 * when the node does (the caller re-translates on node changes). Pure.
 */
import type { Endpoint, HttpRoute, Service } from '../../model/types.js';
import type { BackendRef, KubeServiceInfo } from './ingress.js';
import { parseActivatorChoice, revisionDataPath, type ActivatorChoice, type DataPathKind, type SksMode } from '../../model/data-path.js';
import {
  ANNOTATION_ACTIVATOR,
  DEFAULT_ACTIVATOR_SERVICE,
  LABEL_REVISION,
  LABEL_SERVICE_NAME,
  LABEL_SERVICE_TYPE,
  LABEL_SKS,
  asArray,
  asString,
  compareStrings,
  isRecord,
  keyOf,
  metaOf,
} from './objects.js';

export interface EndpointsInput {
  /** Split targets, one per service (first reference wins when ports differ). */
  readonly backends: readonly BackendRef[];
  /** Routes in force; a service's hosts are the hosts of the routes that split to it. */
  readonly routes: readonly HttpRoute[];
  readonly endpointSlices: readonly unknown[];
  readonly revisions: readonly unknown[];
  readonly lookupService: (namespace: string, name: string) => KubeServiceInfo | undefined;
  readonly knownNodes: ReadonlySet<string>;
  readonly defaultCapacity: number;
  /** Knative ServerlessServices (networking.internal.knative.dev/v1alpha1). */
  readonly serverlessServices?: readonly unknown[];
  /** `namespace/name` of Knative's activator Service (default knative-serving/activator-service). */
  readonly activatorService?: string;
}

/** What a Knative revision's traffic reaches first, and why (for /debug, metrics and KIngress status). */
export interface RevisionDataPath {
  /** The public Service, `namespace/name` (the xDS cluster). */
  readonly service: string;
  readonly revision: string;
  /** The ServerlessService's `spec.mode`. */
  readonly sksMode: SksMode;
  /** What the public endpoints are: the activators (Proxy) or the pods (Serve). */
  readonly publicEndpointsMode: SksMode;
  readonly choice: ActivatorChoice;
  readonly warning?: string;
  readonly path: DataPathKind;
  readonly readyPods: number;
  /** Activator endpoints the gateways get (the last priority with bypass; the whole path with keep). */
  readonly activators: number;
  readonly privateService: string;
  /** False while the private Service has no EndpointSlice yet (the public endpoints are used meanwhile). */
  readonly privateServiceSeen: boolean;
}

export interface EndpointsStats {
  /** Endpoints left out because their `nodeName` is not a known Node. */
  readonly unknownNode: number;
  /** Endpoints left out because they have no `nodeName`. */
  readonly missingNode: number;
  /** Slices ignored: FQDN address type, or no port to use. */
  readonly skippedSlices: number;
}

export interface EndpointsResult {
  readonly services: readonly Service[];
  readonly dataPaths: readonly RevisionDataPath[];
  readonly stats: EndpointsStats;
}

/** `containerConcurrency` per revision `namespace/name`; undefined when absent. */
function revisionConcurrency(revisions: readonly unknown[]): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const r of revisions) {
    const meta = metaOf(r);
    if (!meta || !isRecord(r)) continue;
    const spec = isRecord(r['spec']) ? r['spec'] : {};
    const cc = spec['containerConcurrency'];
    out.set(keyOf(meta.namespace, meta.name), typeof cc === 'number' && Number.isFinite(cc) && cc >= 0 ? cc : undefined);
  }
  return out;
}

function slicePort(slice: Record<string, unknown>, ref: Pick<BackendRef, 'portName' | 'targetPort'>): number | undefined {
  const ports = asArray(slice['ports']).filter(isRecord);
  const named = ports.find((p) => (asString(p['name']) ?? '') === ref.portName && typeof p['port'] === 'number');
  if (named && ref.portName !== '') return named['port'] as number;
  if (ref.targetPort > 0) return ref.targetPort;
  const only = ports.length === 1 ? ports[0]!['port'] : undefined;
  return typeof only === 'number' ? only : undefined;
}

/** Counters of endpoints left out, shared by every slice read in one translation. */
interface SkipCounters {
  unknownNode: number;
  missingNode: number;
  skippedSlices: number;
}

/** Endpoints of one Service's slices (deduplicated by address, sorted), on the port `ref` names. */
function endpointsOfSlices(
  slices: readonly Record<string, unknown>[],
  ref: Pick<BackendRef, 'portName' | 'targetPort'>,
  capacity: number,
  knownNodes: ReadonlySet<string>,
  skipped: SkipCounters,
): Endpoint[] {
  const byAddress = new Map<string, Endpoint>();
  for (const slice of [...slices].sort((a, b) => compareStrings(metaOf(a)?.name ?? '', metaOf(b)?.name ?? ''))) {
    const addressType = slice['addressType'];
    const port = slicePort(slice, ref);
    if ((addressType !== 'IPv4' && addressType !== 'IPv6') || port === undefined) {
      skipped.skippedSlices++;
      continue;
    }
    for (const ep of asArray(slice['endpoints'])) {
      if (!isRecord(ep)) continue;
      const cond = isRecord(ep['conditions']) ? ep['conditions'] : {};
      if (cond['terminating'] === true) continue;
      const node = asString(ep['nodeName']);
      const addresses = asArray(ep['addresses']).filter((a): a is string => typeof a === 'string' && a !== '');
      if (!node) {
        skipped.missingNode += addresses.length;
        continue;
      }
      if (!knownNodes.has(node)) {
        skipped.unknownNode += addresses.length;
        continue;
      }
      const ready = cond['ready'] !== false;
      for (const address of addresses) {
        const prev = byAddress.get(address);
        // The same address in two slices (mid-update): ready wins, so a flip never drops it.
        if (!prev || (!prev.ready && ready)) byAddress.set(address, { address, port, node, ready, capacity });
      }
    }
  }
  return [...byAddress.values()].sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
}

export function buildServices(input: EndpointsInput): EndpointsResult {
  const skipped: SkipCounters = { unknownNode: 0, missingNode: 0, skippedSlices: 0 };
  const concurrency = revisionConcurrency(input.revisions);
  const choices = revisionChoices(input.revisions);
  const sksByKey = serverlessServices(input.serverlessServices ?? []);
  const slicesByService = new Map<string, Record<string, unknown>[]>();
  for (const s of input.endpointSlices) {
    const meta = metaOf(s);
    if (!meta || !isRecord(s)) continue;
    const svcName = meta.labels[LABEL_SERVICE_NAME];
    if (!svcName) continue;
    const k = keyOf(meta.namespace, svcName);
    const list = slicesByService.get(k) ?? [];
    list.push(s);
    slicesByService.set(k, list);
  }
  const hostsByService = new Map<string, Set<string>>();
  for (const r of input.routes) {
    for (const rule of r.rules) {
      for (const split of rule.splits) {
        const hosts = hostsByService.get(split.service) ?? new Set<string>();
        for (const h of r.hosts) if (h !== '*') hosts.add(h);
        hostsByService.set(split.service, hosts);
      }
    }
  }
  const services: Service[] = [];
  const dataPaths: RevisionDataPath[] = [];
  for (const ref of input.backends) {
    if (ref.externalName) {
      services.push({ name: ref.service, hosts: [], protocol: ref.protocol, endpoints: [], externalName: ref.externalName });
      continue;
    }
    const svc = input.lookupService(ref.namespace, ref.name);
    const publicSlices = slicesByService.get(ref.service) ?? [];
    const revision = svc?.labels[LABEL_REVISION] ?? (publicSlices[0] ? metaOf(publicSlices[0])?.labels[LABEL_REVISION] : undefined);
    const cc = revision ? concurrency.get(keyOf(ref.namespace, revision)) : undefined;
    const capacity = cc === undefined || cc === 0 ? input.defaultCapacity : cc;
    const read = (slices: readonly Record<string, unknown>[]) => endpointsOfSlices(slices, ref, capacity, input.knownNodes, skipped);
    const publicEndpoints = read(publicSlices);
    // A Knative revision: its public Service belongs to a ServerlessService (serverlessservice.go, resources/services.go).
    const sksName = svc?.labels[LABEL_SKS];
    const sks = sksName && svc?.labels[LABEL_SERVICE_TYPE] === 'Public' ? sksByKey.get(keyOf(ref.namespace, sksName)) : undefined;
    const privateName = sks ? sks.privateServiceName || `${sksName}-private` : undefined;
    const privateSlices = privateName ? slicesByService.get(keyOf(ref.namespace, privateName)) : undefined;
    const requested = revision ? choices.get(keyOf(ref.namespace, revision)) : undefined;
    const choice = parseActivatorChoice(requested) ?? 'bypass';
    const path = revisionDataPath({
      mode: sks?.mode,
      choice,
      publicEndpoints,
      pods: privateSlices ? read(privateSlices) : undefined,
      activatorService: read(slicesByService.get(input.activatorService ?? DEFAULT_ACTIVATOR_SERVICE) ?? []),
    });
    services.push({
      name: ref.service,
      hosts: [...(hostsByService.get(ref.service) ?? [])].sort(compareStrings),
      protocol: ref.protocol,
      endpoints: path.endpoints,
      ...(path.activators.length ? { activators: path.activators } : {}),
    });
    if (sks)
      dataPaths.push({
        service: ref.service,
        revision: revision ?? '',
        sksMode: sks.mode,
        publicEndpointsMode: path.effectiveMode ?? sks.mode,
        choice,
        ...(requested !== undefined && parseActivatorChoice(requested) === undefined
          ? { warning: `${ANNOTATION_ACTIVATOR} "${requested}" is not bypass or keep; using bypass` }
          : {}),
        path: path.path,
        readyPods: path.readyPods,
        activators: path.activators.length || (choice === 'keep' && path.path === 'activator' ? publicEndpoints.length : 0),
        privateService: privateName!,
        privateServiceSeen: privateSlices !== undefined,
      });
  }
  services.sort((a, b) => compareStrings(a.name, b.name));
  dataPaths.sort((a, b) => compareStrings(a.service, b.service));
  return { services, dataPaths, stats: { ...skipped } };
}

/** `proxima.dev/activator` per revision `namespace/name`, when set. */
function revisionChoices(revisions: readonly unknown[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of revisions) {
    const meta = metaOf(r);
    const v = meta?.annotations[ANNOTATION_ACTIVATOR];
    if (meta && v !== undefined) out.set(keyOf(meta.namespace, meta.name), v);
  }
  return out;
}

/** ServerlessServices by `namespace/name`: `spec.mode` and `status.privateServiceName`. */
function serverlessServices(objects: readonly unknown[]): Map<string, { mode: SksMode; privateServiceName: string }> {
  const out = new Map<string, { mode: SksMode; privateServiceName: string }>();
  for (const o of objects) {
    const meta = metaOf(o);
    if (!meta || !isRecord(o)) continue;
    const spec = isRecord(o['spec']) ? o['spec'] : {};
    const status = isRecord(o['status']) ? o['status'] : {};
    // `mode` is required (knative/networking serverlessservice_validation.go); whatever it says, the
    // public endpoints themselves tell whether the activator is in the path (revisionDataPath).
    const mode: SksMode = spec['mode'] === 'Proxy' ? 'Proxy' : 'Serve';
    out.set(keyOf(meta.namespace, meta.name), { mode, privateServiceName: asString(status['privateServiceName']) ?? '' });
  }
  return out;
}
