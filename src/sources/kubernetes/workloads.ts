/**
 * The pods' own concurrency settings, read from the Deployment whose pod template a Service selects
 * (apps/v1; faas-netes creates one Deployment per OpenFaaS function, openfaas/faas-netes
 * pkg/handlers/deploy.go `makeDeploymentSpec`). Where a Service's endpoint capacity comes from, first
 * match wins:
 * 1. the Service's `proxima.dev/capacity` annotation;
 * 2. the pod template's `proxima.dev/capacity` annotation;
 * 3. the smallest positive `max_inflight` env of the template's containers — of-watchdog's limit on
 *    requests in flight, past which it answers 429 (openfaas/of-watchdog config/config.go, README);
 *    0 means unlimited there and is ignored here;
 * 4. the configured default.
 * Pure.
 */
import { asArray, asString, asStringMap, compareStrings, isRecord, metaOf } from './objects.js';

export const ANNOTATION_CAPACITY = 'proxima.dev/capacity';
/** of-watchdog's concurrency limit (env var of the function container). */
export const ENV_MAX_INFLIGHT = 'max_inflight';

export type CapacitySource = 'service-annotation' | 'pod-annotation' | 'max_inflight' | 'default';

export interface Capacity {
  readonly capacity: number;
  readonly source: CapacitySource;
}

/** A positive integer from a string, else undefined. */
export function positiveInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

interface PodTemplate {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly containers: readonly unknown[];
}

function podTemplateOf(deployment: unknown): PodTemplate | undefined {
  const meta = metaOf(deployment);
  if (!meta || !isRecord(deployment) || !isRecord(deployment['spec'])) return undefined;
  const template = deployment['spec']['template'];
  if (!isRecord(template)) return undefined;
  const tmeta = isRecord(template['metadata']) ? template['metadata'] : {};
  const spec = isRecord(template['spec']) ? template['spec'] : {};
  return {
    namespace: meta.namespace,
    name: meta.name,
    labels: asStringMap(tmeta['labels']),
    annotations: asStringMap(tmeta['annotations']),
    containers: asArray(spec['containers']),
  };
}

function maxInflight(containers: readonly unknown[]): number | undefined {
  let min: number | undefined;
  for (const c of containers) {
    if (!isRecord(c)) continue;
    for (const e of asArray(c['env'])) {
      if (!isRecord(e) || e['name'] !== ENV_MAX_INFLIGHT) continue;
      const n = positiveInt(asString(e['value']));
      if (n !== undefined && (min === undefined || n < min)) min = n;
    }
  }
  return min;
}

/** Deployments' pod templates by namespace, sorted by name (so the first match is deterministic). */
export class PodTemplates {
  private readonly byNamespace = new Map<string, PodTemplate[]>();

  constructor(deployments: readonly unknown[]) {
    for (const d of deployments) {
      const t = podTemplateOf(d);
      if (!t) continue;
      const list = this.byNamespace.get(t.namespace) ?? [];
      list.push(t);
      this.byNamespace.set(t.namespace, list);
    }
    for (const list of this.byNamespace.values()) list.sort((a, b) => compareStrings(a.name, b.name));
  }

  /** The first template in `namespace` whose labels carry every selector pair; none for an empty selector. */
  selected(namespace: string, selector: Readonly<Record<string, string>>): PodTemplate | undefined {
    const pairs = Object.entries(selector);
    if (pairs.length === 0) return undefined;
    return this.byNamespace.get(namespace)?.find((t) => pairs.every(([k, v]) => t.labels[k] === v));
  }

  /** Endpoint capacity for a Service with `annotations` and `selector` (see the file comment). */
  capacityFor(
    namespace: string,
    annotations: Readonly<Record<string, string>>,
    selector: Readonly<Record<string, string>>,
    defaultCapacity: number,
  ): Capacity {
    const fromService = positiveInt(annotations[ANNOTATION_CAPACITY]);
    if (fromService !== undefined) return { capacity: fromService, source: 'service-annotation' };
    const template = this.selected(namespace, selector);
    const fromPod = positiveInt(template?.annotations[ANNOTATION_CAPACITY]);
    if (fromPod !== undefined) return { capacity: fromPod, source: 'pod-annotation' };
    const inflight = template ? maxInflight(template.containers) : undefined;
    if (inflight !== undefined) return { capacity: inflight, source: 'max_inflight' };
    return { capacity: defaultCapacity, source: 'default' };
  }
}
