/** Test harness: a stand-in apiserver loaded with fixtures and a KubeConfig pointing at it. */
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/log.js';
import { ModelStore } from '../../src/model/store.js';
import { KubernetesSource, type KubernetesSourceOptions } from '../../src/sources/kubernetes/source.js';
import { ApiServerStandIn } from './apiserver-standin.js';
import { loadObjects } from './fixtures.js';

export const KOURIER = 'kourier.ingress.networking.knative.dev';

export function kubeConfigFor(server: string, token = 'stand-in-token'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'standin', server, skipTLSVerify: true }],
    users: [{ name: 'proxima', token }],
    contexts: [{ name: 'standin', cluster: 'standin', user: 'proxima' }],
    currentContext: 'standin',
  });
  return kc;
}

export async function startStandIn(
  files = ['nodes.yaml', 'hello-revisions.yaml', 'hello-endpointslices-serve.yaml', 'hello-ingress.yaml'],
): Promise<{ api: ApiServerStandIn; url: string }> {
  const api = new ApiServerStandIn();
  const url = await api.start();
  for (const f of files) for (const o of loadObjects(f)) api.apply(o);
  return { api, url };
}

export function newSource(
  url: string,
  extra: Partial<KubernetesSourceOptions> = {},
): { source: KubernetesSource; store: ModelStore; registry: Registry } {
  const store = new ModelStore();
  const registry = new Registry();
  const source = new KubernetesSource({
    store,
    log: silentLogger(),
    registry,
    kubeConfig: kubeConfigFor(url),
    ingressClass: KOURIER,
    backoffBaseMs: 20,
    backoffMaxMs: 200,
    syncTimeoutMs: 10_000,
    rng: () => 0.5,
    ...extra,
  });
  return { source, store, registry };
}

/** Poll `check` until it returns true (or throws the last assertion error after `timeoutMs`). */
export async function eventually(check: () => boolean | void | Promise<boolean | void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if ((await check()) !== false) return;
      last = new Error('condition still false');
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}
