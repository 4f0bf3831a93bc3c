/**
 * Every write Proxima makes to a KIngress: its status and its finalizer, both only from the leader
 * (net-kourier's generated reconciler runs ReconcileKind and FinalizeKind on the leader only).
 * The finalizer is Kourier's own, `ingresses.networking.internal.knative.dev` (knative/networking
 * pkg/client/injection/reconciler/networking/v1alpha1/ingress: defaultFinalizerName), so a KIngress created under either controller is
 * finalized by the other after a switch-over. Finalizer patches carry the resourceVersion they
 * were computed from (a stale one gets 409 and is retried on the next refresh).
 */
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../log.js';
import type { RevisionDataPath } from './endpoints.js';
import type { IngressTranslation } from './ingress.js';
import type { KubernetesMetrics } from './metrics.js';
import { desiredStatus, sameStatus, statusPatch, type Condition, type IngressStatus, type LoadBalancerAddresses } from './status.js';

export const KOURIER_FINALIZER = 'ingresses.networking.internal.knative.dev';
export const CONFIG_CONDITION = 'GatewayConfigSupported';

const KNATIVE_NETWORKING = { group: 'networking.internal.knative.dev', version: 'v1alpha1', plural: 'ingresses' } as const;

export interface StatusWriterOptions {
  readonly custom: CustomObjectsApi;
  readonly log: Logger;
  readonly metrics: KubernetesMetrics;
  readonly loadBalancers: LoadBalancerAddresses;
  /** True while this replica may write (the leader, or the only replica). */
  readonly isLeader: () => boolean;
  readonly isProgrammed: (routeName: string) => boolean;
  /** With Knative's readiness probe: true once every gateway pod serves this version of the ingress. */
  readonly probed?: (i: IngressTranslation) => boolean;
  readonly nowMs: () => number;
}

/**
 * The finalizer list after adding (appended) or removing (the rest, sorted) Kourier's finalizer, as
 * the generated reconciler's updateFinalizersFiltered computes it; undefined when nothing changes.
 */
export function finalizersAfter(current: readonly string[], add: boolean): string[] | undefined {
  const has = current.includes(KOURIER_FINALIZER);
  if (add === has) return undefined;
  return add ? [...current, KOURIER_FINALIZER] : [...new Set(current.filter((f) => f !== KOURIER_FINALIZER))].sort();
}

/** Config keys Proxima does not honour, as an Info condition (does not affect Ready). */
export function withConfigCondition(s: IngressStatus, issues: readonly string[], current: unknown, nowMs: number): IngressStatus {
  if (issues.length === 0) return s;
  const prev = (current as { conditions?: Condition[] } | undefined)?.conditions?.find((c) => c.type === CONFIG_CONDITION);
  const message = issues.join('; ');
  const now = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const cond: Condition = {
    type: CONFIG_CONDITION,
    status: 'False',
    severity: 'Info',
    reason: 'UnsupportedConfig',
    message,
    lastTransitionTime: prev?.status === 'False' && prev.lastTransitionTime ? prev.lastTransitionTime : now,
  };
  return { ...s, conditions: [...s.conditions, cond] };
}

export class IngressStatusWriter {
  private readonly opts: StatusWriterOptions;
  /** Status we last wrote per ingress, keyed with the object's resourceVersion, to skip repeats while the informer lags. */
  private readonly written = new Map<string, string>();

  constructor(opts: StatusWriterOptions) {
    this.opts = opts;
  }

  /** Bring finalizers and statuses in line; `obj` looks up the informer's copy. No-op on a follower. */
  async write(
    ingresses: readonly IngressTranslation[],
    deleting: readonly KubernetesObject[],
    obj: (namespace: string, name: string) => KubernetesObject | undefined,
    dataPaths: readonly RevisionDataPath[],
    configIssues: readonly string[],
    keepGoing: () => boolean,
  ): Promise<void> {
    if (!this.opts.isLeader()) return;
    const live = new Set(ingresses.map((i) => i.key));
    for (const k of this.written.keys()) if (!live.has(k)) this.written.delete(k);
    for (const o of deleting) {
      if (!keepGoing() || !this.opts.isLeader()) return;
      await this.patchFinalizers(o, false);
    }
    for (const i of ingresses) {
      if (!keepGoing() || !this.opts.isLeader()) return;
      const o = obj(i.namespace, i.name);
      if (!o) continue;
      await this.patchFinalizers(o, true);
      await this.writeStatus(i, o, dataPaths, configIssues);
    }
  }

  private async patchFinalizers(o: KubernetesObject, add: boolean): Promise<void> {
    const meta = o.metadata ?? {};
    const next = finalizersAfter(meta.finalizers ?? [], add);
    if (!next) return;
    const key = `${meta.namespace}/${meta.name}`;
    try {
      await this.opts.custom.patchNamespacedCustomObject(
        {
          ...KNATIVE_NETWORKING,
          namespace: meta.namespace ?? '',
          name: meta.name ?? '',
          body: { metadata: { finalizers: next, resourceVersion: meta.resourceVersion } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.opts.metrics.finalizerWrites.inc({ action: add ? 'add' : 'remove', outcome: 'ok' });
      this.opts.log.info({ ingress: key, finalizer: KOURIER_FINALIZER }, add ? 'KIngress finalizer added' : 'KIngress finalized');
    } catch (err) {
      this.opts.metrics.finalizerWrites.inc({ action: add ? 'add' : 'remove', outcome: 'error' });
      this.opts.log.warn({ ingress: key, err: String((err as Error)?.message ?? err) }, 'KIngress finalizer patch failed; will retry');
    }
  }

  private async writeStatus(
    i: IngressTranslation,
    o: KubernetesObject,
    dataPaths: readonly RevisionDataPath[],
    configIssues: readonly string[],
  ): Promise<void> {
    const programmed = i.outcome.kind === 'ok' && i.routes.every((r) => this.opts.isProgrammed(r.name)) && (this.opts.probed?.(i) ?? true);
    const current = (o as { status?: unknown }).status;
    const desired = withConfigCondition(
      desiredStatus(i, programmed, this.opts.loadBalancers, current, this.opts.nowMs(), dataPaths),
      configIssues,
      current,
      this.opts.nowMs(),
    );
    if (sameStatus(current, desired)) return;
    const sig = `${o.metadata?.resourceVersion ?? ''}|${JSON.stringify({ ...desired, conditions: desired.conditions.map((c) => ({ ...c, lastTransitionTime: '' })) })}`;
    if (this.written.get(i.key) === sig) return;
    try {
      await this.opts.custom.patchNamespacedCustomObjectStatus(
        { ...KNATIVE_NETWORKING, namespace: i.namespace, name: i.name, body: statusPatch(desired) },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.written.set(i.key, sig);
      this.opts.metrics.statusWrites.inc({ outcome: 'ok' });
    } catch (err) {
      this.opts.metrics.statusWrites.inc({ outcome: 'error' });
      this.opts.log.warn(
        { ingress: i.key, err: String((err as Error)?.message ?? err) },
        'KIngress status write failed; will retry on the next refresh',
      );
    }
  }
}
