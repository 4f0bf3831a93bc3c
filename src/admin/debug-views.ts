import type { AssignmentEngine } from '../engine/assignments.js';
import type { ModelStore } from '../model/store.js';
import type { Service } from '../model/types.js';
import { backendsOf, nodeServiceInput, policyInputFor } from '../engine/policy-input.js';
import type { Policy } from '../policy/types.js';
import { reasonText } from '../policy/reason.js';

/**
 * Where a service's service-time input comes from, per node with ready endpoints: `lrs` (estimated
 * from the gateways' load reports) or `default`. Plain Services and OpenFaaS functions run no
 * queue-proxy, so their pods offer no per-pod signal: their estimate is marked `lrs-only`.
 */
export function serviceTimeInput(store: ModelStore, service: Service): unknown {
  const nodes = [...new Set(service.endpoints.filter((e) => e.ready && !e.pending).map((e) => e.node))].sort();
  const byNode: Record<string, { ms: number; source: 'lrs' | 'default' }> = {};
  for (const n of nodes) {
    const ms = store.serviceTimeMs(service.name, n);
    byNode[n] = ms === undefined ? { ms: store.defaults.serviceTimeMs, source: 'default' } : { ms: round(ms), source: 'lrs' };
  }
  // Knative pods carry queue-proxy (its stats are what FaaSt reads); the others offer nothing per pod.
  const podSignals = service.platform === 'service' || service.platform === 'openfaas' ? 'none' : 'queue-proxy';
  return {
    estimate: podSignals === 'none' ? 'lrs-only' : 'lrs',
    podSignals,
    why:
      podSignals === 'none'
        ? `${service.platform === 'openfaas' ? 'OpenFaaS function' : 'plain Service'}: the pods run no queue-proxy, so service time is estimated from LRS load reports only (Little's law), else the default`
        : "the pods' queue-proxy signal when fresh (see inputs), else LRS load reports (Little's law), else the default",
    byNode,
  };
}

/**
 * Per node, what the policy was given for `service`: service time and FaaSt's P_j with their
 * source and age, and the pods' own signal (queue-proxy) when fresh.
 */
export function serviceInputsView(store: ModelStore, service: string, nowMs: number, policy?: Policy): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const model = policy?.modelView?.(policyInputFor(store, service, [], nowMs));
  for (const b of backendsOf(store, service)) {
    const i = nodeServiceInput(store, service, b.node, nowMs);
    const pod = store.podSignal(service, b.node, nowMs);
    const m = model?.[b.node];
    out[b.node] = {
      serviceTimeMs: round(i.serviceTimeMs),
      serviceTimeSource: i.serviceTimeSource,
      ...(i.loadRps !== undefined ? { loadRps: round(i.loadRps) } : {}),
      ...(i.queueWait ? { queueWaitMs: round(i.queueWait.waitMs), queueWaitRps: round(i.queueWait.rps) } : {}),
      // What the policy's model made of these inputs (the service time it plans with).
      ...(m ? { model: { serviceTimeMs: round(m.serviceTimeMs), serviceCv2: round(m.serviceCv2), how: m.how } } : {}),
      faastLatencyMs: round(i.faastLatencyMs ?? i.serviceTimeMs),
      faastSource: i.faastSource,
      ...(i.ageMs !== undefined ? { ageMs: Math.round(i.ageMs) } : {}),
      podSignal: pod
        ? {
            pods: pod.pods,
            podsFailed: pod.podsFailed,
            requestRps: round(pod.requestRps),
            concurrency: round(pod.concurrency),
            queueDepth: pod.queueDepth,
            requestLatencyMs: pod.requestLatencyMs !== undefined ? round(pod.requestLatencyMs) : null,
            appLatencyMs: pod.appLatencyMs !== undefined ? round(pod.appLatencyMs) : null,
            windowRequestLatencyMs: pod.windowRequestLatencyMs !== undefined ? round(pod.windowRequestLatencyMs) : null,
            latencySource: pod.latencySource ?? null,
            ageMs: Math.round(nowMs - pod.atMs),
          }
        : null,
    };
  }
  return out;
}

/** /debug/assignments: per service and gateway, the localities with priority, weight, share and why. */
export function assignmentsView(store: ModelStore, engine: AssignmentEngine, nowMs: number, query: URLSearchParams): unknown {
  const onlyService = query.get('service');
  const onlyGateway = query.get('gateway');
  const services: Record<string, unknown> = {};
  for (const name of engine.services().sort()) {
    if (onlyService && name !== onlyService) continue;
    const service = store.service(name);
    const perGateway = engine.forService(name);
    if (!service || !perGateway) continue;
    const gateways: Record<string, unknown> = {};
    for (const [gateway, a] of [...perGateway].sort(([x], [y]) => (x < y ? -1 : 1))) {
      if (onlyGateway && gateway !== onlyGateway) continue;
      const p0Total = a.localities.filter((l) => l.priority === 0).reduce((s, l) => s + l.weight, 0);
      gateways[gateway] = {
        reason: reasonText(a.reason),
        localities: a.localities.map((l) => ({
          node: l.node,
          priority: l.priority,
          weight: l.weight,
          sharePercent: l.priority === 0 && p0Total > 0 ? Math.round((1000 * l.weight) / p0Total) / 10 : 0,
          rttMs: gateway === '*' ? null : round(store.rttMs(gateway, l.node, nowMs)),
          endpoints: service.endpoints.filter((e) => e.node === l.node && e.ready && !e.pending).map((e) => `${e.address}:${e.port}`),
        })),
      };
    }
    const activators = (service.activators ?? []).filter((e) => e.ready).map((e) => `${e.address}:${e.port}@${e.node}`);
    const demandRps = Object.fromEntries([...store.demandByGateway(name)].map(([g, rps]) => [g, { rps: round(rps), source: 'lrs' }]));
    // Knative's activators: every gateway's last EDS priority (not assigned by the policy).
    services[name] = {
      hosts: service.hosts,
      protocol: service.protocol,
      platform: service.platform ?? 'knative',
      serviceTimeInput: serviceTimeInput(store, service),
      inputs: { demandRps, nodes: serviceInputsView(store, name, nowMs, engine.policy) },
      gateways,
      ...(activators.length ? { activators } : {}),
    };
  }
  return { policy: engine.policy.name, generation: store.generation, services };
}

/** /debug/topology: nodes, the effective RTT matrix (and where each value comes from), defaults. */
export function topologyView(store: ModelStore, nowMs: number): unknown {
  const nodes = store.nodeNames().sort();
  const rtt: Record<
    string,
    Record<string, { rttMs: number; source: 'measured' | 'configured' | 'default' | 'local'; reachable: boolean }>
  > = {};
  for (const from of nodes) {
    const row: (typeof rtt)[string] = {};
    for (const to of nodes) {
      const measured = store.measured(from, to, nowMs);
      const configured = store.configuredRttMs(from, to);
      const source = from === to ? 'local' : measured?.reachable ? 'measured' : configured !== undefined ? 'configured' : 'default';
      row[to] = { rttMs: round(store.rttMs(from, to, nowMs)), source, reachable: store.reachable(from, to, nowMs) };
    }
    rtt[from] = row;
  }
  return {
    nodes: store.nodes(),
    defaults: store.defaults,
    rtt,
    services: store.services().map((s) => ({ name: s.name, hosts: s.hosts, endpoints: s.endpoints.length })),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
