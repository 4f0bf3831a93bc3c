import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { ModelStore } from '../../model/store.js';
import type { KourierOptions } from './kourier-options.js';
import type { MeasurementOptions } from './replicas.js';
import type { OpenFaasOptions } from './openfaas.js';
import type { LoadBalancerAddresses } from './status.js';

/** What the Kubernetes source (source.ts) is given, and how its start fails. */

/** The API server could not be reached or refused every list at start-up (a fatal start-up error). */
export class KubernetesUnavailableError extends Error {
  override readonly name = 'KubernetesUnavailableError';
}

export interface KubernetesSourceOptions {
  readonly store: ModelStore;
  readonly log: Logger;
  readonly registry: Registry;
  readonly kubeConfig: KubeConfig;
  /** KIngresses with another `networking.knative.dev/ingress.class` are ignored. */
  readonly ingressClass?: string;
  /** The node this replica runs on (informational: logged and published with measurements). */
  readonly nodeName?: string;
  /** Set when several replicas run: measurements are exchanged through ProximaMeasurement objects. */
  readonly replicaId?: string;
  /**
   * True once every connected gateway ACKed a version containing the route `routeName`
   * (HttpRoute.name, `namespace/ingress#rule`). Without it (or `judgeProgrammedBy`) no ingress is
   * ever reported Ready.
   */
  readonly isProgrammed?: (routeName: string) => boolean;
  /** Gateway Services reported as the KIngress load balancers (Kourier's by default). */
  readonly loadBalancers?: LoadBalancerAddresses;
  /** Endpoint capacity when a Revision's containerConcurrency is 0 or unknown; default: the store's. */
  readonly defaultCapacity?: number;
  /** Also route OpenFaaS functions (functions namespace, gateway Service); plain Services opt in by label. */
  readonly openfaas?: OpenFaasOptions;
  /** Re-translate everything this often even without events (expires measurements, heals drift). */
  readonly resyncIntervalMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** start() rejects when the informers have not synced within this time. */
  readonly syncTimeoutMs?: number;
  readonly measurements?: Partial<MeasurementOptions>;
  readonly nowMs?: () => number;
  readonly rng?: () => number;
  /** net-kourier compatibility: certificates, ConfigMaps, leader election (kourier-options.ts). */
  readonly kourier?: Partial<KourierOptions>;
}
