import type { ModelStore } from '../model/store.js';
import type { KubePod } from './wire.js';

/** Label Knative puts on every pod of a revision; its value is the revision name. */
export const KNATIVE_REVISION_LABEL = 'serving.knative.dev/revision';
/** Label naming the Knative Service a revision belongs to. */
export const KNATIVE_SERVICE_LABEL = 'serving.knative.dev/service';

/** A pod the extender judges: a Knative revision pod or one matching the configured label. */
export interface FunctionPod {
  readonly namespace: string;
  readonly name: string;
  /** uid when present, else `namespace/name`: identifies the pod across filter and prioritize. */
  readonly key: string;
  /** Proxima service names this pod may serve, most specific first. */
  readonly serviceCandidates: readonly string[];
}

/**
 * Decide whether `pod` is a function pod and which Proxima services it may serve. Knative pods map
 * to `namespace/<revision>` (the per-revision service), then `namespace/<service>`; non-Knative pods
 * map to `namespace/<value of serviceLabel>` when `serviceLabel` is configured. Other pods: undefined.
 */
export function functionPodOf(pod: KubePod, serviceLabel?: string): FunctionPod | undefined {
  const labels = pod.metadata?.labels ?? {};
  const namespace = pod.metadata?.namespace || 'default';
  const candidates: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v !== '' && !candidates.includes(`${namespace}/${v}`)) candidates.push(`${namespace}/${v}`);
  };
  const revision = labels[KNATIVE_REVISION_LABEL];
  if (typeof revision === 'string' && revision !== '') {
    add(revision);
    add(labels[KNATIVE_SERVICE_LABEL]);
  }
  if (serviceLabel) add(labels[serviceLabel]);
  if (candidates.length === 0) return undefined;
  const name = pod.metadata?.name || pod.metadata?.uid || '(unnamed)';
  const uid = pod.metadata?.uid;
  return { namespace, name, key: uid ? uid : `${namespace}/${name}`, serviceCandidates: candidates };
}

/** The first candidate the model knows, else the most specific one (a revision not yet in the model). */
export function resolveService(store: ModelStore, pod: FunctionPod): string {
  for (const c of pod.serviceCandidates) if (store.service(c)) return c;
  return pod.serviceCandidates[0]!;
}
