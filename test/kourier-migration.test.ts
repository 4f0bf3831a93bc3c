/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/**
 * Switching between net-kourier and Proxima, both ways, on the finalizer: against the
 * kube-apiserver STAND-IN (no kube-apiserver here; it implements DELETE with finalizers as
 * kube-apiserver does: deletionTimestamp first, removal once the list is empty).
 * - Kourier → Proxima: a KIngress in the state net-kourier left it (test/kube/fixtures/
 *   kourier-owned-ingress.yaml: its finalizer and status) is deleted under Proxima and goes away.
 * - Proxima → Kourier: a KIngress Proxima finalized is deleted under Kourier's generated reconciler
 *   (emulated below with its finalizer logic from knative/networking
 *   pkg/client/injection/reconciler/networking/v1alpha1/ingress/reconciler.go) and goes away; with
 *   any other finalizer name it would hang in Terminating, which the control case shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newSource, startStandIn } from './kube/harness.js';
import type { ApiServerStandIn } from './kube/apiserver-standin.js';

const FINALIZER = 'ingresses.networking.internal.knative.dev';
const FILES = ['nodes.yaml', 'hello-revisions.yaml', 'hello-endpointslices-serve.yaml', 'kourier-owned-ingress.yaml'];

/**
 * net-kourier's generated reconciler on a deleted KIngress: FinalizeKind, then clearFinalizer
 * removes `defaultFinalizerName` with a merge patch carrying the resourceVersion (here applied
 * through the stand-in's own merge-patch path, as the HTTP PATCH would).
 */
async function kourierFinalizes(api: ApiServerStandIn, url: string, name: string): Promise<void> {
  const o = api.get('Ingress', name, 'default');
  if (!o?.['metadata']['deletionTimestamp']) return;
  const finalizers: string[] = o['metadata']['finalizers'] ?? [];
  if (!finalizers.includes(FINALIZER)) return;
  const rest = [...new Set(finalizers.filter((f) => f !== FINALIZER))].sort();
  const r = await fetch(`${url}/apis/networking.internal.knative.dev/v1alpha1/namespaces/default/ingresses/${name}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ metadata: { finalizers: rest, resourceVersion: o['metadata']['resourceVersion'] } }),
  });
  assert.equal(r.status, 200);
}

test('migration Kourier → Proxima: a KIngress carrying Kourier’s finalizer is served, then deleted under Proxima', async (t) => {
  const { api, url } = await startStandIn(FILES);
  t.after(() => api.stop());
  const { source, store } = newSource(url, { isProgrammed: () => true, kourier: { clusterGraceMs: 0 } });
  t.after(() => source.stop());
  await source.start();
  assert.ok(
    store.routes().some((r) => r.name.startsWith('default/legacy#')),
    'served under Proxima',
  );
  await source.refreshStatuses();
  const before = api.get('Ingress', 'legacy', 'default')!;
  assert.deepEqual(before['metadata']['finalizers'], [FINALIZER], 'Proxima adds no second finalizer');
  assert.equal(
    before['status']['conditions'].find((c: any) => c.type === 'Ready').lastTransitionTime,
    '2026-11-30T08:00:00Z',
    'Ready kept, not flapped',
  );

  api.deleteGracefully('Ingress', 'legacy', 'default');
  await eventually(() => api.get('Ingress', 'legacy', 'default') === undefined, 5000);
  assert.equal(store.routes().filter((r) => r.name.startsWith('default/legacy#')).length, 0, 'routes withdrawn');
  const patch = api.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/ingresses/legacy')).at(-1)!;
  assert.deepEqual((patch.body as any).metadata.finalizers, []);
  assert.ok((patch.body as any).metadata.resourceVersion, 'optimistic concurrency, as the generated reconciler does');
});

test('migration Proxima → Kourier: the finalizer Proxima adds is the one Kourier’s reconciler removes', async (t) => {
  const { api, url } = await startStandIn(FILES);
  t.after(() => api.stop());
  const legacy = api.get('Ingress', 'legacy', 'default')!;
  delete legacy['metadata']['finalizers'];
  delete legacy['status'];
  api.delete('Ingress', 'legacy', 'default');
  api.apply({ ...legacy, metadata: { ...legacy['metadata'], name: 'fresh', resourceVersion: undefined } });
  const { source } = newSource(url, { isProgrammed: () => true });
  await source.start();
  await eventually(() => (api.get('Ingress', 'fresh', 'default')!['metadata']['finalizers'] ?? []).includes(FINALIZER), 5000);
  await source.stop(); // switch back to net-kourier

  api.deleteGracefully('Ingress', 'fresh', 'default');
  assert.ok(api.get('Ingress', 'fresh', 'default')!['metadata']['deletionTimestamp'], 'Terminating until a controller finalizes it');
  await kourierFinalizes(api, url, 'fresh');
  assert.equal(api.get('Ingress', 'fresh', 'default'), undefined, 'deleted under Kourier');

  // Control: with a finalizer Kourier does not know, the object would stay Terminating forever.
  api.apply({
    ...legacy,
    metadata: { ...legacy['metadata'], name: 'foreign', finalizers: ['proxima.dev/other'], resourceVersion: undefined },
  });
  api.deleteGracefully('Ingress', 'foreign', 'default');
  await kourierFinalizes(api, url, 'foreign');
  assert.ok(api.get('Ingress', 'foreign', 'default')!['metadata']['deletionTimestamp'], 'stuck: the name matters');
});
