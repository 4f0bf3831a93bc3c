import type { Endpoint, ModelDefaults, NodeInfo, Service } from './types.js';

/** Equality of model values: what decides whether an update to the store is a change at all. */

function sameEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (
      x.address !== y.address ||
      x.port !== y.port ||
      x.node !== y.node ||
      x.ready !== y.ready ||
      x.capacity !== y.capacity ||
      Boolean(x.pending) !== Boolean(y.pending)
    ) {
      return false;
    }
  }
  return true;
}

export function sameService(a: Service, b: Service): boolean {
  return (
    a.name === b.name &&
    a.protocol === b.protocol &&
    a.platform === b.platform &&
    a.hosts.length === b.hosts.length &&
    a.hosts.every((h, i) => h === b.hosts[i]) &&
    sameEndpoints(a.endpoints, b.endpoints) &&
    sameEndpoints(a.activators ?? [], b.activators ?? []) &&
    JSON.stringify([a.externalName, a.upstreamTls]) === JSON.stringify([b.externalName, b.upstreamTls])
  );
}

export function sameNode(a: NodeInfo, b: NodeInfo): boolean {
  if (a.name !== b.name || a.zone !== b.zone || a.region !== b.region || a.ready !== b.ready) return false;
  const ak = Object.keys(a.labels);
  return ak.length === Object.keys(b.labels).length && ak.every((k) => a.labels[k] === b.labels[k]);
}

export function sameMap<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export function sameDefaults(a: ModelDefaults, b: ModelDefaults): boolean {
  return (Object.keys(a) as (keyof ModelDefaults)[]).every((k) => a[k] === b[k]);
}
