/**
 * The slices of Kubernetes and Knative objects the translators read, typed loosely: objects arrive
 * as raw watch JSON or as client-node model instances (lists), and may be malformed. The translators
 * read every field defensively through these helpers and never throw on bad input.
 */

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Any Kubernetes object as far as the source is concerned. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
  readonly spec?: unknown;
  readonly status?: unknown;
  readonly [k: string]: unknown;
}

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_REVISION = 'serving.knative.dev/revision';
/** knative/serving pkg/networking/constants.go: SKSLabelKey and ServiceTypeKey (Public | Private). */
export const LABEL_SKS = 'networking.internal.knative.dev/serverlessservice';
export const LABEL_SERVICE_TYPE = 'networking.internal.knative.dev/serviceType';
/** knative/serving pkg/networking/constants.go ActivatorServiceName, in the system namespace. */
export const DEFAULT_ACTIVATOR_SERVICE = 'knative-serving/activator-service';
/** Per revision (or the ksvc's template): `bypass` (default) routes around the activator, `keep` does not. */
export const ANNOTATION_ACTIVATOR = 'proxima.dev/activator';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';
export const ANNOTATION_INGRESS_CLASS = 'networking.knative.dev/ingress.class';
/** The spelling Knative used before 1.x; still honoured by net-kourier. */
export const ANNOTATION_INGRESS_CLASS_OLD = 'networking.knative.dev/ingress-class';
export const DEFAULT_INGRESS_CLASS = 'kourier.ingress.networking.knative.dev';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asArray(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function asStringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

export function metaOf(
  o: unknown,
):
  | { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; generation: number | undefined }
  | undefined {
  if (!isRecord(o) || !isRecord(o['metadata'])) return undefined;
  const m = o['metadata'];
  const name = asString(m['name']);
  if (!name) return undefined;
  const generation = typeof m['generation'] === 'number' ? m['generation'] : undefined;
  return {
    name,
    namespace: asString(m['namespace']) ?? '',
    labels: asStringMap(m['labels']),
    annotations: asStringMap(m['annotations']),
    generation,
  };
}

/** `namespace/name`, the key Proxima uses for services, clusters and ingresses. */
export function keyOf(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
