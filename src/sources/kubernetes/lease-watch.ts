/**
 * The one Lease of leader election, listed and watched by name (a field selector), so a standby
 * sees each renewal when it happens instead of at its next poll and can try to take over exactly
 * when the lease it saw expires (leader.ts). Not a model input: a renewal re-translates nothing.
 */
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../log.js';
import type { LeaderElector } from './leader.js';
import type { KubernetesMetrics } from './metrics.js';
import { ResourceWatcher } from './watcher.js';

export interface LeaseWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly custom: CustomObjectsApi;
  /** `namespace/name`. */
  readonly lease: string;
  readonly elector: LeaderElector;
  readonly log: Logger;
  readonly metrics: KubernetesMetrics;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly rng: () => number;
}

export function leaseWatcher(o: LeaseWatchOptions): ResourceWatcher {
  const slash = o.lease.indexOf('/');
  const namespace = o.lease.slice(0, slash);
  const name = o.lease.slice(slash + 1);
  const fieldSelector = `metadata.name=${name}`;
  const watcher: ResourceWatcher = new ResourceWatcher({
    resource: 'lease',
    kubeConfig: o.kubeConfig,
    path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases?fieldSelector=${encodeURIComponent(fieldSelector)}`,
    list: () =>
      o.custom.listNamespacedCustomObject({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace, fieldSelector }),
    log: o.log,
    metrics: o.metrics,
    onChange: () => o.elector.observe(watcher.get(name, namespace)),
    backoffBaseMs: o.backoffBaseMs,
    backoffMaxMs: o.backoffMaxMs,
    rng: o.rng,
  });
  return watcher;
}
