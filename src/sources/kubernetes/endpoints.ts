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
import { LABEL_REVISION, LABEL_SERVICE_NAME, asArray, asString, compareStrings, isRecord, keyOf, metaOf } from './objects.js';

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

function slicePort(slice: Record<string, unknown>, ref: BackendRef): number | undefined {
  const ports = asArray(slice['ports']).filter(isRecord);
  const named = ports.find((p) => (asString(p['name']) ?? '') === ref.portName && typeof p['port'] === 'number');
  if (named && ref.portName !== '') return named['port'] as number;
  if (ref.targetPort > 0) return ref.targetPort;
  const only = ports.length === 1 ? ports[0]!['port'] : undefined;
  return typeof only === 'number' ? only : undefined;
}

export function buildServices(input: EndpointsInput): EndpointsResult {
  let unknownNode = 0;
  let missingNode = 0;
  let skippedSlices = 0;
  const concurrency = revisionConcurrency(input.revisions);
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
  for (const ref of input.backends) {
    const svc = input.lookupService(ref.namespace, ref.name);
    const slices = (slicesByService.get(ref.service) ?? []).sort((a, b) => compareStrings(metaOf(a)?.name ?? '', metaOf(b)?.name ?? ''));
    const byAddress = new Map<string, Endpoint>();
    for (const slice of slices) {
      const addressType = slice['addressType'];
      const port = slicePort(slice, ref);
      if ((addressType !== 'IPv4' && addressType !== 'IPv6') || port === undefined) {
        skippedSlices++;
        continue;
      }
      const revision = svc?.labels[LABEL_REVISION] ?? metaOf(slice)?.labels[LABEL_REVISION];
      const cc = revision ? concurrency.get(keyOf(ref.namespace, revision)) : undefined;
      const capacity = cc === undefined || cc === 0 ? input.defaultCapacity : cc;
      for (const ep of asArray(slice['endpoints'])) {
        if (!isRecord(ep)) continue;
        const cond = isRecord(ep['conditions']) ? ep['conditions'] : {};
        if (cond['terminating'] === true) continue;
        const node = asString(ep['nodeName']);
        const addresses = asArray(ep['addresses']).filter((a): a is string => typeof a === 'string' && a !== '');
        if (!node) {
          missingNode += addresses.length;
          continue;
        }
        if (!input.knownNodes.has(node)) {
          unknownNode += addresses.length;
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
    services.push({
      name: ref.service,
      hosts: [...(hostsByService.get(ref.service) ?? [])].sort(compareStrings),
      protocol: ref.protocol,
      endpoints: [...byAddress.values()].sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port),
    });
  }
  services.sort((a, b) => compareStrings(a.name, b.name));
  return { services, stats: { unknownNode, missingNode, skippedSlices } };
}
