/**
 * Where a Knative revision's traffic goes, and what Proxima makes of it (pure; shared by the
 * Kubernetes source and the demo's emulated Knative, so the demo measures what a cluster gets).
 *
 * Knative (knative/serving pkg/reconciler/serverlessservice/serverlessservice.go,
 * reconcilePublicEndpoints): the revision's public Service points at its pods in `Serve` mode and at
 * a subset of activator pods in `Proxy` mode, and is forced to `Proxy` when no pod is ready (and to
 * `Serve` when no activator is). The pods are always the endpoints of the `-private` Service.
 *
 * Proxima's choice per revision: `bypass` (default) routes to the pods and keeps the activators as
 * the last priority (scale from zero, failover); `keep` routes to the public endpoints as Kourier
 * does (the activator in the path whenever Knative puts it there).
 */
import type { Endpoint } from './types.js';

export type SksMode = 'Serve' | 'Proxy';
export type ActivatorChoice = 'bypass' | 'keep';
export const ACTIVATOR_CHOICES: readonly ActivatorChoice[] = ['bypass', 'keep'];

/** What the gateways reach first: the revision's pods, or Knative's activator. */
export type DataPathKind = 'pods' | 'activator';

export interface DataPathInput {
  /** The ServerlessService's `spec.mode`; undefined when there is no SKS (not a Knative revision). */
  readonly mode: SksMode | undefined;
  readonly choice: ActivatorChoice;
  /** The public Service's endpoints (pods in Serve mode, activators in Proxy mode). */
  readonly publicEndpoints: readonly Endpoint[];
  /** The private Service's endpoints (always the pods); undefined when unknown. */
  readonly pods: readonly Endpoint[] | undefined;
  /** Every activator (knative-serving/activator-service): the fallback when the public endpoints are the pods. */
  readonly activatorService: readonly Endpoint[];
}

export interface DataPath {
  /** The endpoints the policy assigns. */
  readonly endpoints: readonly Endpoint[];
  /** The last priority (empty with `keep`). */
  readonly activators: readonly Endpoint[];
  /** What the first priority is made of. */
  readonly path: DataPathKind;
  /** Ready pods of the revision (private Service). */
  readonly readyPods: number;
  /** The mode the public endpoints are in, as Knative's SKS reconciler resolves it. */
  readonly effectiveMode: SksMode | undefined;
}

const key = (e: Endpoint) => `${e.address}:${e.port}`;
const ready = (list: readonly Endpoint[]) => list.filter((e) => e.ready).length;

export function revisionDataPath(input: DataPathInput): DataPath {
  const pods = input.pods;
  if (pods === undefined || input.mode === undefined) {
    // Not a Knative revision (or its private Service is not known yet): the public endpoints are all
    // there is — in Proxy mode the activators, until the private Service's slices show the pods.
    return {
      endpoints: input.publicEndpoints,
      activators: [],
      path: input.mode === 'Proxy' ? 'activator' : 'pods',
      readyPods: input.mode === 'Proxy' ? 0 : ready(input.publicEndpoints),
      effectiveMode: input.mode,
    };
  }
  const readyPods = ready(pods);
  const podKeys = new Set(pods.map(key));
  // Public endpoints that are not pods are activators (Proxy mode, or forced to it at zero pods).
  const publicActivators = input.publicEndpoints.filter((e) => !podKeys.has(key(e)));
  const effectiveMode: SksMode = publicActivators.some((e) => e.ready) ? 'Proxy' : 'Serve';
  if (input.choice === 'keep') {
    return {
      endpoints: input.publicEndpoints,
      activators: [],
      path: effectiveMode === 'Proxy' ? 'activator' : 'pods',
      readyPods,
      effectiveMode,
    };
  }
  const activators = publicActivators.length > 0 ? publicActivators : input.activatorService;
  const seen = new Set<string>();
  const unique = activators.filter((e) => !seen.has(key(e)) && (seen.add(key(e)), true));
  return { endpoints: pods, activators: unique, path: readyPods > 0 ? 'pods' : 'activator', readyPods, effectiveMode };
}

/** The choice an annotation value asks for; undefined for anything else (the caller reports it). */
export function parseActivatorChoice(value: string | undefined): ActivatorChoice | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'bypass' || v === 'keep' ? v : undefined;
}
