/**
 * EndpointSlices (discovery.k8s.io/v1) of one plain Service or OpenFaaS function → model Endpoints.
 * Follows what kube-proxy does with the same objects (kubernetes pkg/proxy/endpointslicecache.go,
 * pkg/proxy/topology.go):
 * - only IPv4/IPv6 slices; the port is the slice port named like the Service port (each slice
 *   carries its own ports, so one Service's slices may differ while a targetPort changes);
 * - `conditions.ready` nil counts as ready; an endpoint that is `terminating` but still `serving`
 *   is used only when no endpoint of the Service is ready (KEP-1669, ProxyTerminatingEndpoints);
 * - an endpoint without `nodeName` is placed by its `zone` when exactly one known node is in that
 *   zone (the EndpointSlice controller fills both from the Pod's node), else left out and counted;
 * - `hints.forZones` is read and returned for /debug: Proxima's own assignment replaces the zone
 *   hints kube-proxy would follow (`trafficDistribution: PreferClose`), so they never steer traffic.
 * Endpoints are keyed by address and port (the same pair in two slices mid-update: ready wins). Pure.
 */
import type { Endpoint, NodeInfo } from '../../model/types.js';
import { asArray, asString, compareStrings, isRecord, metaOf } from './objects.js';

export interface SlicePortRef {
  /** Name of the Service port; slice ports carry the same name ('' for a lone unnamed port). */
  readonly portName: string;
}

export interface SliceInput {
  readonly slices: readonly unknown[];
  readonly port: SlicePortRef;
  readonly nodes: readonly NodeInfo[];
  readonly capacity: number;
}

export interface SliceStats {
  readonly unknownNode: number;
  readonly missingNode: number;
  readonly skippedSlices: number;
}

/** An endpoint's zone hints as the slice carries them (for /debug, never for routing). */
export interface ZoneHint {
  readonly address: string;
  readonly port: number;
  readonly forZones: readonly string[];
}

export interface SliceResult {
  readonly endpoints: readonly Endpoint[];
  readonly hints: readonly ZoneHint[];
  readonly stats: SliceStats;
}

interface Candidate {
  readonly endpoint: Endpoint;
  /** Not ready, but terminating and still serving: kube-proxy's fallback when nothing is ready. */
  readonly servingTerminating: boolean;
}

function slicePortNumber(slice: Record<string, unknown>, ref: SlicePortRef): number | undefined {
  const ports = asArray(slice['ports']).filter(isRecord);
  const named = ports.find((p) => (asString(p['name']) ?? '') === ref.portName && typeof p['port'] === 'number');
  if (named) return named['port'] as number;
  const only = ports.length === 1 ? ports[0]!['port'] : undefined;
  return typeof only === 'number' ? only : undefined;
}

/** Node names by zone, for endpoints that name a zone but no node. */
function nodesByZone(nodes: readonly NodeInfo[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of nodes) {
    if (!n.zone) continue;
    const list = out.get(n.zone) ?? [];
    list.push(n.name);
    out.set(n.zone, list);
  }
  return out;
}

export function endpointsFromSlices(input: SliceInput): SliceResult {
  let unknownNode = 0;
  let missingNode = 0;
  let skippedSlices = 0;
  const known = new Set(input.nodes.map((n) => n.name));
  const zones = nodesByZone(input.nodes);
  const byKey = new Map<string, Candidate>();
  const hints = new Map<string, ZoneHint>();
  const slices = [...input.slices].sort((a, b) => compareStrings(metaOf(a)?.name ?? '', metaOf(b)?.name ?? ''));
  for (const slice of slices) {
    if (!isRecord(slice)) continue;
    const addressType = slice['addressType'];
    const port = slicePortNumber(slice, input.port);
    if ((addressType !== 'IPv4' && addressType !== 'IPv6') || port === undefined) {
      skippedSlices++;
      continue;
    }
    for (const ep of asArray(slice['endpoints'])) {
      if (!isRecord(ep)) continue;
      const cond = isRecord(ep['conditions']) ? ep['conditions'] : {};
      const addresses = asArray(ep['addresses']).filter((a): a is string => typeof a === 'string' && a !== '');
      const zone = asString(ep['zone']);
      const inZone = zone ? zones.get(zone) : undefined;
      const node = asString(ep['nodeName']) ?? (inZone?.length === 1 ? inZone[0] : undefined);
      if (!node) {
        missingNode += addresses.length;
        continue;
      }
      if (!known.has(node)) {
        unknownNode += addresses.length;
        continue;
      }
      const terminating = cond['terminating'] === true;
      const ready = cond['ready'] !== false && !terminating;
      const servingTerminating = !ready && terminating && cond['serving'] === true;
      if (!ready && !servingTerminating && terminating) continue;
      const forZones = asArray(isRecord(ep['hints']) ? ep['hints']['forZones'] : undefined)
        .map((z) => (isRecord(z) ? asString(z['name']) : undefined))
        .filter((z): z is string => z !== undefined);
      for (const address of addresses) {
        const key = `${address}\u0000${port}`;
        const prev = byKey.get(key);
        if (!prev || (!prev.endpoint.ready && ready)) {
          byKey.set(key, { endpoint: { address, port, node, ready, capacity: input.capacity }, servingTerminating });
        }
        if (forZones.length > 0) hints.set(key, { address, port, forZones });
      }
    }
  }
  const candidates = [...byKey.values()];
  const anyReady = candidates.some((c) => c.endpoint.ready);
  // Not-ready endpoints stay in the model (ready: false; the policy skips them) so /debug shows them.
  const endpoints = candidates
    .map((c) => (!anyReady && c.servingTerminating ? { ...c.endpoint, ready: true } : c.endpoint))
    .sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
  return {
    endpoints,
    hints: [...hints.values()].sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port),
    stats: { unknownNode, missingNode, skippedSlices },
  };
}
