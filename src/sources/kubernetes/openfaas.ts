/**
 * OpenFaaS functions as routed services, with the OpenFaaS gateway's path shape.
 *
 * What faas-netes creates per function (openfaas/faas-netes pkg/handlers/deploy.go): a Deployment
 * and a ClusterIP Service, both named after the function, in the functions namespace (default
 * `openfaas-fn`); the Service selects `faas_function: NAME` and has one port `http` 8080 → 8080
 * (main.go `RuntimeHTTPPort: 8080`). So a function here is a Service in that namespace whose
 * selector carries `faas_function`; its endpoints are the Service's EndpointSlices.
 *
 * How the OpenFaaS gateway forwards (openfaas/faas gateway/main.go): `/function/{name}`,
 * `/function/{name}/` and `/function/{name}/{params:.*}` go to the provider, whose proxy
 * (openfaas/faas-provider proxy/proxy.go `buildProxyRequest`) calls the function at
 * `http://<pod IP>:8080/<params>` with the query kept: the `/function/NAME` prefix is stripped, so
 * `/function/NAME` and `/function/NAME/` both reach `/`. A name may carry its namespace,
 * `NAME.NAMESPACE` (faas-netes pkg/k8s/proxy.go `getNamespace`). Here that becomes, on host `*`:
 * an exact-path rule `/function/NAME` and a prefix rule `/function/NAME/`, both rewritten to `/`
 * (Envoy needs two routes to strip a prefix with and without the trailing slash).
 *
 * `/async-function/NAME` is not sent to the function: the OpenFaaS gateway queues it (NATS) and
 * answers 202, and the queue-worker later calls `http://<faas_gateway_address>/function/NAME`
 * (openfaas/nats-queue-worker main.go `makeFunctionURL`). So when the OpenFaaS gateway Service
 * exists it becomes a routed service too, with a catch-all `/` on host `*`: async calls, `/system/*`
 * and the UI reach it unchanged, and a function with no ready endpoint is left to it (its routes
 * are withheld), since the OpenFaaS gateway scales functions from zero. Pure.
 */
import type { HttpRoute, RouteRule, Service } from '../../model/types.js';
import {
  addStats,
  clusterLocalHosts,
  NO_STATS,
  singleServiceRule,
  workloadService,
  type ServiceShape,
  type WorkloadContext,
  type WorkloadReport,
  type WorkloadTranslation,
} from './services.js';

export const LABEL_FAAS_FUNCTION = 'faas_function';
export const DEFAULT_OPENFAAS_NAMESPACE = 'openfaas-fn';
export const DEFAULT_OPENFAAS_GATEWAY = 'openfaas/gateway';

export interface OpenFaasOptions {
  /** The functions namespace (faas-netes `function_namespace`). */
  readonly namespace: string;
  /** `namespace/name` of the OpenFaaS gateway Service; '' for none. */
  readonly gateway: string;
}

/** `/function/ID` exact and `/function/ID/` prefix, both forwarded as `/`. */
function functionRules(service: string, id: string): RouteRule[] {
  const base = `/function/${id}`;
  return [
    { ...singleServiceRule(service, base), exactPath: true, prefixRewrite: '/' },
    { ...singleServiceRule(service, `${base}/`), prefixRewrite: '/' },
  ];
}

/** True for a Service faas-netes made for a function (selector `faas_function`). */
export function isFunctionService(s: ServiceShape, opts: OpenFaasOptions): boolean {
  return s.namespace === opts.namespace && s.selector[LABEL_FAAS_FUNCTION] !== undefined;
}

export function translateOpenFaas(services: readonly ServiceShape[], ctx: WorkloadContext, opts: OpenFaasOptions): WorkloadTranslation {
  const out: Service[] = [];
  const routes: HttpRoute[] = [];
  const reports: WorkloadReport[] = [];
  let stats = NO_STATS;
  const gateway = opts.gateway ? services.find((s) => s.key === opts.gateway) : undefined;
  for (const s of services) {
    if (!isFunctionService(s, opts)) continue;
    const local = clusterLocalHosts(s.namespace, s.name);
    const w = workloadService(s, 'openfaas', local, ctx);
    reports.push(w.report);
    if (!('service' in w)) continue;
    out.push(w.service);
    stats = addStats(stats, w.stats);
    routes.push({ name: `openfaas:${s.key}#internal`, hosts: local, visibility: ['internal'], rules: [singleServiceRule(s.key, '/')] });
    if (gateway && !w.service.endpoints.some((e) => e.ready)) continue;
    routes.push({
      name: `openfaas:${s.key}#function`,
      hosts: ['*'],
      visibility: ['external', 'internal'],
      rules: [...functionRules(s.key, s.name), ...functionRules(s.key, `${s.name}.${s.namespace}`)],
    });
  }
  if (gateway) {
    const w = workloadService(gateway, 'openfaas', clusterLocalHosts(gateway.namespace, gateway.name), ctx);
    reports.push(w.report);
    if ('service' in w) {
      out.push(w.service);
      stats = addStats(stats, w.stats);
      routes.push({
        name: `openfaas:${gateway.key}`,
        hosts: ['*'],
        visibility: ['external', 'internal'],
        rules: [singleServiceRule(gateway.key, '/')],
      });
    }
  }
  return { services: out, routes, reports, stats };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Validated, frozen OpenFaaS options, or what is wrong with them. */
export function openfaasOptions(namespace: string, gateway: string): OpenFaasOptions | string {
  if (!DNS_LABEL.test(namespace)) return `--openfaas-namespace "${namespace}" is not a namespace name`;
  const parts = gateway.split('/');
  if (gateway !== '' && (parts.length !== 2 || !parts.every((p) => DNS_LABEL.test(p))))
    return `--openfaas-gateway "${gateway}" is not NAMESPACE/NAME (or '' for none)`;
  return Object.freeze({ namespace, gateway });
}
