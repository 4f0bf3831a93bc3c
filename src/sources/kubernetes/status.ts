/**
 * The KIngress status Proxima reports, as Knative's networking API defines it
 * (knative.dev/networking pkg/apis/networking/v1alpha1/ingress_lifecycle.go): conditions
 * LoadBalancerReady and NetworkConfigured, Ready derived from both, `observedGeneration`, and
 * `publicLoadBalancer`/`privateLoadBalancer` naming the gateway Services. Pure; `lastTransitionTime`
 * only moves when a condition's status changes, so writing the same state twice is a no-op.
 */
import type { RevisionDataPath } from './endpoints.js';
import type { IngressTranslation } from './ingress.js';
import { asArray, asString, isRecord } from './objects.js';

export interface LoadBalancerAddresses {
  /** e.g. `kourier.kourier-system.svc.cluster.local` (Kourier's external gateway Service). */
  readonly publicDomainInternal: string;
  /** e.g. `kourier-internal.kourier-system.svc.cluster.local`. */
  readonly privateDomainInternal: string;
}

/** Kourier's gateway Services `kourier` and `kourier-internal` in the gateway namespace. */
export function loadBalancersIn(gatewayNamespace: string, clusterDomain = 'cluster.local'): LoadBalancerAddresses {
  return Object.freeze({
    publicDomainInternal: `kourier.${gatewayNamespace}.svc.${clusterDomain}`,
    privateDomainInternal: `kourier-internal.${gatewayNamespace}.svc.${clusterDomain}`,
  });
}

export const DEFAULT_LOAD_BALANCERS: LoadBalancerAddresses = loadBalancersIn('kourier-system');

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  /** Knative's `Info` marks a condition that does not feed Ready (knative.dev/pkg apis.ConditionSeverityInfo). */
  readonly severity?: 'Info';
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime: string;
}

export interface IngressStatus {
  readonly observedGeneration?: number;
  readonly conditions: readonly Condition[];
  readonly publicLoadBalancer?: { readonly ingress: readonly { readonly domainInternal: string }[] };
  readonly privateLoadBalancer?: { readonly ingress: readonly { readonly domainInternal: string }[] };
}

type Cond = Omit<Condition, 'lastTransitionTime'>;

/**
 * `ActivatorBypassed` (severity Info, so Ready is untouched): True when every revision the ingress
 * splits to is reached at its pods, False when one goes through Knative's activator; the message
 * says per revision what and why. Undefined when no split goes to a Knative revision.
 */
export function activatorCondition(
  t: IngressTranslation,
  dataPaths: readonly RevisionDataPath[],
): Omit<Condition, 'lastTransitionTime'> | undefined {
  const paths = t.backends.map((b) => dataPaths.find((d) => d.service === b.service)).filter((d): d is RevisionDataPath => d !== undefined);
  if (paths.length === 0) return undefined;
  const viaActivator = paths.filter((d) => d.path === 'activator');
  const message = paths
    .map(
      (d) =>
        `${d.revision || d.service}: ${d.path === 'pods' ? 'pods' : 'activator'} (${d.choice}; SKS ${d.sksMode}, ${d.readyPods} ready pods` +
        `${d.choice === 'bypass' && d.activators > 0 ? ', activator as last priority' : ''})`,
    )
    .join('; ');
  return viaActivator.length === 0
    ? { type: ACTIVATOR_CONDITION, status: 'True', severity: 'Info', reason: 'RoutedToPods', message }
    : {
        type: ACTIVATOR_CONDITION,
        status: 'False',
        severity: 'Info',
        reason: viaActivator.some((d) => d.readyPods === 0) ? 'NoReadyPods' : 'ActivatorKept',
        message,
      };
}

export const ACTIVATOR_CONDITION = 'ActivatorBypassed';

/** The status an ingress should have now; `current` is its present status (for transition times). */
export function desiredStatus(
  t: IngressTranslation,
  programmed: boolean,
  lbs: LoadBalancerAddresses,
  current: unknown,
  nowMs: number,
  dataPaths: readonly RevisionDataPath[] = [],
): IngressStatus {
  let conds: Cond[];
  let withLbs = false;
  if (t.outcome.kind === 'unsupported') {
    conds = [
      { type: 'LoadBalancerReady', status: 'Unknown', reason: 'Uninitialized', message: 'Waiting for load balancer to be ready' },
      { type: 'NetworkConfigured', status: 'False', reason: t.outcome.reason, message: t.outcome.message },
      { type: 'Ready', status: 'False', reason: t.outcome.reason, message: t.outcome.message },
    ];
  } else if (t.outcome.kind === 'conflict') {
    // knative/networking MarkLoadBalancerFailed, as net-kourier does on ErrDomainConflict.
    conds = [
      { type: 'LoadBalancerReady', status: 'False', reason: t.outcome.reason, message: t.outcome.message },
      { type: 'NetworkConfigured', status: 'True' },
      { type: 'Ready', status: 'False', reason: t.outcome.reason, message: t.outcome.message },
    ];
  } else if (t.outcome.kind === 'pending') {
    conds = [
      { type: 'LoadBalancerReady', status: 'Unknown', reason: t.outcome.reason, message: t.outcome.message },
      { type: 'NetworkConfigured', status: 'Unknown', reason: t.outcome.reason, message: t.outcome.message },
      { type: 'Ready', status: 'Unknown', reason: t.outcome.reason, message: t.outcome.message },
    ];
  } else if (!programmed) {
    conds = [
      { type: 'LoadBalancerReady', status: 'Unknown', reason: 'Uninitialized', message: 'Waiting for load balancer to be ready' },
      { type: 'NetworkConfigured', status: 'True' },
      { type: 'Ready', status: 'Unknown', reason: 'Uninitialized', message: 'Waiting for load balancer to be ready' },
    ];
  } else {
    withLbs = true;
    conds = [
      { type: 'LoadBalancerReady', status: 'True' },
      { type: 'NetworkConfigured', status: 'True' },
      { type: 'Ready', status: 'True' },
    ];
  }
  const activator = t.outcome.kind === 'ok' ? activatorCondition(t, dataPaths) : undefined;
  if (activator) conds.push(activator);
  const previous = new Map<string, Condition>();
  const cur = isRecord(current) ? current : {};
  for (const c of asArray(cur['conditions'])) {
    if (isRecord(c) && typeof c['type'] === 'string') previous.set(c['type'], c as unknown as Condition);
  }
  const now = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions = conds.map((c): Condition => {
    const p = previous.get(c.type);
    const since = p && p.status === c.status && asString(p.lastTransitionTime) ? p.lastTransitionTime : now;
    return { ...c, lastTransitionTime: since };
  });
  return {
    ...(t.generation !== undefined ? { observedGeneration: t.generation } : {}),
    conditions,
    ...(withLbs
      ? {
          publicLoadBalancer: { ingress: [{ domainInternal: lbs.publicDomainInternal }] },
          privateLoadBalancer: { ingress: [{ domainInternal: lbs.privateDomainInternal }] },
        }
      : {}),
  };
}

function normCond(c: unknown): string {
  if (!isRecord(c)) return '';
  return JSON.stringify([c['type'], c['status'], c['severity'] ?? '', c['reason'] ?? '', c['message'] ?? '']);
}

/** True when `current` already says what `desired` says (ignoring transition times). */
export function sameStatus(current: unknown, desired: IngressStatus): boolean {
  if (!isRecord(current)) return false;
  if ((current['observedGeneration'] ?? undefined) !== desired.observedGeneration) return false;
  const a = asArray(current['conditions']).map(normCond).sort();
  const b = desired.conditions.map(normCond).sort();
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) return false;
  const lb = (v: unknown): string =>
    JSON.stringify(isRecord(v) ? asArray(v['ingress']).map((i) => (isRecord(i) ? (i['domainInternal'] ?? '') : '')) : []);
  return (
    lb(current['publicLoadBalancer']) === lb(desired.publicLoadBalancer) &&
    lb(current['privateLoadBalancer']) === lb(desired.privateLoadBalancer)
  );
}

/**
 * JSON merge patch (RFC 7386) body for the status subresource. Load balancers absent from the
 * desired status are nulled so a merge patch removes them.
 */
export function statusPatch(desired: IngressStatus): { status: Record<string, unknown> } {
  return {
    status: {
      ...desired,
      publicLoadBalancer: desired.publicLoadBalancer ?? null,
      privateLoadBalancer: desired.privateLoadBalancer ?? null,
    },
  };
}
