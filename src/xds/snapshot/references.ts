import { TypeUrl, type ProtoResource } from '../resources/types.js';

/**
 * Names of the resources one resource depends on, read from the builder's plain object:
 * an EDS cluster → its ClusterLoadAssignment name; a listener → the route configurations its
 * HttpConnectionManagers load over RDS. Used for the consistency check before publishing.
 */
export function referencesOf(resource: ProtoResource): string[] {
  const v = resource.value as Record<string, unknown>;
  if (resource.typeUrl === TypeUrl.Cluster) {
    const eds = v['eds_cluster_config'] as Record<string, unknown> | undefined;
    const type = v['type'];
    if (!eds && type !== 'EDS' && type !== 3) return [];
    const serviceName = eds?.['service_name'];
    return [typeof serviceName === 'string' && serviceName !== '' ? serviceName : resource.name];
  }
  if (resource.typeUrl === TypeUrl.Listener) {
    const found = new Set<string>();
    collectRouteConfigNames(v, found, 0);
    return [...found];
  }
  return [];
}

function collectRouteConfigNames(value: unknown, out: Set<string>, depth: number): void {
  if (depth > 24 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectRouteConfigNames(item, out, depth + 1);
    return;
  }
  if (ArrayBuffer.isView(value)) return;
  for (const [k, child] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'route_config_name' && typeof child === 'string' && child !== '') out.add(child);
    else collectRouteConfigNames(child, out, depth + 1);
  }
}
