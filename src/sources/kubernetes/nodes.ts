import type { NodeInfo } from '../../model/types.js';
import { LABEL_REGION, LABEL_ZONE, asArray, isRecord, metaOf } from './objects.js';

/**
 * A core/v1 Node as a model NodeInfo: zone and region from the well-known topology labels, ready
 * from the `Ready` condition (a node without one counts as not ready, like kube-controller-manager).
 * Returns undefined for an object without a name.
 */
export function nodeFromKube(o: unknown): NodeInfo | undefined {
  const meta = metaOf(o);
  if (!meta) return undefined;
  const status = isRecord(o) && isRecord(o['status']) ? o['status'] : {};
  const ready = asArray(status['conditions']).some((c) => isRecord(c) && c['type'] === 'Ready' && c['status'] === 'True');
  return {
    name: meta.name,
    zone: meta.labels[LABEL_ZONE] ?? '',
    region: meta.labels[LABEL_REGION] ?? '',
    ready,
    labels: meta.labels,
  };
}
