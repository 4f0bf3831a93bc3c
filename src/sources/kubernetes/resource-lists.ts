/** What the Kubernetes source lists and watches: resource name, watch path and the list call. */
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  type CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

export type Lister = () => Promise<KubernetesListObject<KubernetesObject>>;

export const KNATIVE_SERVING = { group: 'serving.knative.dev', version: 'v1' } as const;
export const KNATIVE_NETWORKING = { group: 'networking.internal.knative.dev', version: 'v1alpha1' } as const;

type List = Promise<KubernetesListObject<KubernetesObject>>;

/**
 * Cluster-wide Nodes, Services, EndpointSlices, Deployments, Knative Revisions, KIngresses,
 * ServerlessServices and Secrets (the certificates `spec.tls` names, as net-kourier's secret
 * informer), and the ConfigMaps of the system namespace (config-kourier, config-network).
 */
export function resourceLists(
  kc: KubeConfig,
  custom: CustomObjectsApi,
  systemNamespace: string,
  secretLabelSelector?: string,
): [string, string, Lister][] {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  return [
    ['nodes', '/api/v1/nodes', () => core.listNode() as List],
    ['services', '/api/v1/services', () => core.listServiceForAllNamespaces() as List],
    ['endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces() as List],
    ['deployments', '/apis/apps/v1/deployments', () => kc.makeApiClient(AppsV1Api).listDeploymentForAllNamespaces() as List],
    [
      'revisions',
      '/apis/serving.knative.dev/v1/revisions',
      () => custom.listCustomObjectForAllNamespaces({ ...KNATIVE_SERVING, resourcePlural: 'revisions' }),
    ],
    [
      'ingresses',
      '/apis/networking.internal.knative.dev/v1alpha1/ingresses',
      () => custom.listCustomObjectForAllNamespaces({ ...KNATIVE_NETWORKING, resourcePlural: 'ingresses' }),
    ],
    [
      'serverlessservices',
      '/apis/networking.internal.knative.dev/v1alpha1/serverlessservices',
      () => custom.listCustomObjectForAllNamespaces({ ...KNATIVE_NETWORKING, resourcePlural: 'serverlessservices' }),
    ],
    secretsList(core, secretLabelSelector),
    [
      'configmaps',
      `/api/v1/namespaces/${systemNamespace}/configmaps`,
      () => core.listNamespacedConfigMap({ namespace: systemNamespace }) as List,
    ],
  ];
}

/**
 * Secrets: every Secret of the cluster (net-kourier's default), or with a label selector only those
 * carrying it (net-kourier's ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID: label
 * `networking.internal.knative.dev/certificate-uid`), so the cache does not hold every Secret.
 */
function secretsList(core: CoreV1Api, labelSelector: string | undefined): [string, string, Lister] {
  if (!labelSelector) return ['secrets', '/api/v1/secrets', () => core.listSecretForAllNamespaces() as List];
  return [
    'secrets',
    `/api/v1/secrets?labelSelector=${encodeURIComponent(labelSelector)}`,
    () => core.listSecretForAllNamespaces({ labelSelector }) as List,
  ];
}
