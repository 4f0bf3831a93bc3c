/**
 * The Kubernetes/Knative source. `proxima serve --kubernetes` calls `startKubernetesSource`.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubernetesSource, type KubernetesSourceOptions } from './source.js';
import { loadKubeConfig } from './kubeconfig.js';

export { KubernetesSource, KubernetesUnavailableError, type KubernetesSourceOptions } from './source.js';
export { loadKubeConfig } from './kubeconfig.js';
export { translateCluster, type ClusterObjects, type ClusterTranslation } from './translate.js';
export { translateIngress, ingressClassOf, type IngressTranslation, type BackendRef } from './ingress.js';
export { buildServices } from './endpoints.js';
export { mergeReports, shouldPublish, type RttRow, type DemandRow, type MeasurementReport } from './measurements.js';
export { DEFAULT_LOAD_BALANCERS, type LoadBalancerAddresses } from './status.js';
export { DEFAULT_INGRESS_CLASS } from './objects.js';

export interface StartKubernetesSourceOptions extends Omit<KubernetesSourceOptions, 'kubeConfig'> {
  /** A kubeconfig file; else client-node's default (KUBECONFIG, ~/.kube/config, in-cluster). */
  readonly kubeconfigPath?: string;
  /** A ready KubeConfig (tests); wins over kubeconfigPath. */
  readonly kubeConfig?: KubeConfig;
}

/** Build the KubeConfig, start the source and wait until every informer has synced. */
export async function startKubernetesSource(opts: StartKubernetesSourceOptions): Promise<KubernetesSource> {
  const kc = opts.kubeConfig ?? loadKubeConfig(opts.kubeconfigPath);
  const source = new KubernetesSource({ ...opts, kubeConfig: kc });
  try {
    await source.start();
  } catch (err) {
    await source.stop();
    throw err;
  }
  return source;
}
