import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from '../../config.js';

/**
 * The KubeConfig for `--kubernetes`: the file given, else client-node's default search (KUBECONFIG,
 * ~/.kube/config, the in-cluster service account). client-node falls back to an unauthenticated
 * http://localhost:8080 when it finds none, which only fails later with a misleading TLS message; here
 * finding none is a configuration error, reported at once.
 */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) {
    try {
      kc.loadFromFile(path);
    } catch (err) {
      throw new UsageError(`--kubeconfig ${path}: cannot load it (${firstLine(err)})`);
    }
  } else {
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new UsageError(
        `--kubernetes: cannot load the kubeconfig (KUBECONFIG or ~/.kube/config): ${firstLine(err)}; fix it or pass --kubeconfig FILE`,
      );
    }
    if (isClientNodeFallback(kc)) {
      throw new UsageError(
        '--kubernetes: no kubeconfig found (looked at KUBECONFIG, ~/.kube/config and the in-cluster service account); ' +
          'pass --kubeconfig FILE, or run `proxima serve --topology FILE` without --kubernetes',
      );
    }
  }
  if (!kc.getCurrentCluster()) {
    throw new UsageError(
      `${path ? `--kubeconfig ${path}` : '--kubernetes'}: the current context "${kc.getCurrentContext()}" names no cluster`,
    );
  }
  return kc;
}

/** client-node's loadFromDefault() result when no configuration exists anywhere. */
function isClientNodeFallback(kc: KubeConfig): boolean {
  const c = kc.getCurrentCluster();
  return kc.clusters.length === 1 && c?.name === 'cluster' && c.server === 'http://localhost:8080' && kc.getCurrentUser()?.name === 'user';
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .slice(0, 300);
}
