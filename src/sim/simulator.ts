import { sameAssignment } from '../policy/tiers.js';
import type { GatewayAssignment, NodeCapacity, Policy, PolicyInput } from '../policy/types.js';
import { pickLocality } from './envoy-lb.js';
import { EventQueue } from './events.js';
import type { LoopViewOptions } from './loop-view.js';
import { DEFAULT_LOOP_VIEW, LoopView } from './loop-view.js';
import { exponential, jittered, lognormal, streamFor } from '../util/rng.js';
import type { Scenario } from './scenario.js';
import { link } from './scenario.js';

/**
 * A deterministic discrete-event simulation of one policy at one load level: open-loop Poisson users
 * at the edge gateways, Envoy-style routing by the policy's assignment, pods with a concurrency limit
 * and a FIFO queue each. The policy sees the loop's noisy view (LoopView), or the truth when
 * `truth` is set (the oracle), and is re-run every `recomputeMs`.
 */
export interface RunOptions {
  readonly scenario: Scenario;
  readonly policy: Policy;
  readonly users: number;
  readonly seed: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly recomputeMs?: number;
  readonly probeIntervalMs?: number;
  readonly loop?: LoopViewOptions;
  /** Feed the policy the true inputs (mean RTTs, pure service time, true demand). */
  readonly truth?: boolean;
  /** Change the world during the run (e.g. a link slowing down); called once at `atMs`. */
  readonly step?: { readonly atMs: number; readonly apply: (world: MutableWorld) => void };
  /** Called with each recompute's assignment table (after warm-up too), for stability checks. */
  readonly onAssign?: (atMs: number, table: ReadonlyMap<string, GatewayAssignment>) => void;
}

export interface MutableWorld {
  /** Override a link's mean RTT (both directions). */
  setRttMs(a: string, b: string, rttMs: number, jitterMs: number): void;
}

export interface RunResult {
  readonly policy: string;
  readonly users: number;
  readonly offeredRps: number;
  readonly requests: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Share of requests served by a pod on the node they entered. */
  readonly entryShare: number;
  /** Share of requests that waited in a pod's queue (pod at its concurrency limit). */
  readonly queuedShare: number;
  /** Recomputes after warm-up whose output differed from the previous one, and all recomputes. */
  readonly assignmentChanges: number;
  readonly recomputes: number;
  /** Sorted response times (ms) of the measured requests. */
  readonly latenciesMs: Float64Array;
}

interface Request {
  readonly startMs: number;
  readonly gateway: string;
  readonly node: string;
  readonly rttMs: number;
  readonly measured: boolean;
  waited: boolean;
}

interface Pod {
  busy: number;
  queue: Request[];
  head: number;
}

export const SERVICE = 'default/fn';

export function runSimulation(o: RunOptions): RunResult {
  const s = o.scenario;
  const recomputeMs = o.recomputeMs ?? 2000;
  const probeMs = o.probeIntervalMs ?? 1000;
  const loopOpts = o.loop ?? DEFAULT_LOOP_VIEW;
  const endMs = o.warmupMs + o.measureMs;
  const names = s.nodes.map((n) => n.name);
  const gateways = [...names].sort();
  const rttOverride = new Map<string, { rttMs: number; jitterMs: number }>();
  const linkOf = (a: string, b: string) => rttOverride.get(`${a}>${b}`) ?? link(s, a, b);
  const world: MutableWorld = {
    setRttMs(a, b, rttMs, jitterMs) {
      rttOverride.set(`${a}>${b}`, { rttMs, jitterMs });
      rttOverride.set(`${b}>${a}`, { rttMs, jitterMs });
    },
  };
  const arrivalsRng = streamFor(o.seed, 'arrivals');
  const routeRng = streamFor(o.seed, 'route');
  const rttRng = streamFor(o.seed, 'rtt');
  const serviceRng = streamFor(o.seed, 'service');
  const probeRng = streamFor(o.seed, 'probe');

  const pods = new Map<string, Pod[]>(
    s.nodes.map((n) => [n.name, Array.from({ length: n.pods }, () => ({ busy: 0, queue: [], head: 0 }))]),
  );
  const slots = new Map(s.nodes.map((n) => [n.name, n.slotsPerPod] as const));
  const rr = new Map<string, number>();
  const backends: NodeCapacity[] = s.nodes
    .filter((n) => n.pods > 0)
    .map((n) => ({ node: n.name, readyEndpoints: n.pods, capacity: n.pods * n.slotsPerPod }))
    .sort((a, b) => (a.node < b.node ? -1 : 1));
  const demandOf = (g: string) => o.users * s.rpsPerUser * (s.nodes.find((n) => n.name === g)?.userShare ?? 0);
  const view = new LoopView(loopOpts, (a, b) => linkOf(a, b).rttMs, names);
  const truthInput = (previous?: ReadonlyMap<string, GatewayAssignment>): PolicyInput => ({
    service: SERVICE,
    gateways,
    backends,
    rttMs: (a, b) => linkOf(a, b).rttMs,
    reachable: () => true,
    demandRps: demandOf,
    serviceTimeMs: () => s.serviceTimeMs,
    ...(previous ? { previous } : {}),
  });

  const q = new EventQueue();
  let table: Map<string, GatewayAssignment> = new Map();
  let changes = 0;
  let recomputes = 0;
  const latencies: number[] = [];
  let entry = 0;
  let queued = 0;

  const recompute = (now: number) => {
    view.refreshLatency(now);
    const previous = table.size ? table : undefined;
    const input = o.truth ? truthInput(previous) : view.input(SERVICE, gateways, backends, previous);
    const next = o.policy.assign(input);
    if (now >= o.warmupMs) {
      recomputes++;
      if (gateways.some((g) => !sameAssignment(table.get(g), next.get(g)))) changes++;
    }
    table = next;
    o.onAssign?.(now, next);
  };

  const startService = (now: number, pod: Pod, req: Request) => {
    pod.busy++;
    const done = now + lognormal(serviceRng, s.serviceTimeMs, s.serviceSigma);
    q.push(done, () => finish(done, pod, req));
  };

  const finish = (now: number, pod: Pod, req: Request) => {
    pod.busy--;
    const arrivedAtNode = req.startMs + req.rttMs / 2;
    view.completion(req.node, now, now - arrivedAtNode);
    if (req.measured) {
      latencies.push(now + req.rttMs / 2 - req.startMs);
      if (req.node === req.gateway) entry++;
      if (req.waited) queued++;
    }
    if (pod.head < pod.queue.length) {
      const nextReq = pod.queue[pod.head++]!;
      if (pod.head > 1024 && pod.head * 2 > pod.queue.length) {
        pod.queue = pod.queue.slice(pod.head);
        pod.head = 0;
      }
      startService(now, pod, nextReq);
    }
  };

  const arriveAtNode = (now: number, req: Request) => {
    const list = pods.get(req.node)!;
    const k = `${req.gateway}>${req.node}`;
    const i = rr.get(k) ?? 0;
    rr.set(k, (i + 1) % list.length);
    const pod = list[i]!;
    if (pod.busy < slots.get(req.node)!) startService(now, pod, req);
    else {
      req.waited = true;
      pod.queue.push(req);
    }
  };

  const health = (node: string) => ({ healthy: pods.get(node)?.length ?? 0, total: pods.get(node)?.length ?? 0 });

  const arrival = (now: number, gateway: string, meanGapMs: number) => {
    view.arrival(gateway);
    const a = table.get(gateway);
    const node = a ? pickLocality(a, health, routeRng) : undefined;
    if (node) {
      const l = linkOf(gateway, node);
      const rttMs = jittered(rttRng, l.rttMs, l.jitterMs);
      const req: Request = { startMs: now, gateway, node, rttMs, measured: now >= o.warmupMs, waited: false };
      const at = now + rttMs / 2;
      q.push(at, () => arriveAtNode(at, req));
    }
    const next = now + exponential(arrivalsRng, meanGapMs);
    if (next < endMs) q.push(next, () => arrival(next, gateway, meanGapMs));
  };

  // Schedules.
  recompute(0);
  for (const g of gateways) {
    const rps = demandOf(g);
    if (rps <= 0) continue;
    const gap = 1000 / rps;
    const first = exponential(arrivalsRng, gap);
    q.push(first, () => arrival(first, g, gap));
  }
  const every = (periodMs: number, fn: (now: number) => void) => {
    const tick = (now: number) => {
      fn(now);
      if (now + periodMs < endMs) q.push(now + periodMs, () => tick(now + periodMs));
    };
    q.push(periodMs, () => tick(periodMs));
  };
  every(probeMs, () => {
    for (const a of names)
      for (const b of names)
        if (a !== b) {
          const l = linkOf(a, b);
          view.probe(a, b, jittered(probeRng, l.rttMs, l.jitterMs));
        }
  });
  every(loopOpts.lrsIntervalMs, () => view.lrsReport(gateways));
  every(recomputeMs, recompute);
  if (o.step) {
    const step = o.step;
    q.push(step.atMs, () => step.apply(world));
  }

  for (let e = q.pop(); e; e = q.pop()) e.run();

  const sorted = Float64Array.from(latencies).sort();
  const n = sorted.length;
  const pctl = (p: number) => (n ? sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]! : NaN);
  return {
    policy: o.policy.name,
    users: o.users,
    offeredRps: o.users * s.rpsPerUser,
    requests: n,
    meanMs: n ? sorted.reduce((a, b) => a + b, 0) / n : NaN,
    p50Ms: pctl(0.5),
    p95Ms: pctl(0.95),
    p99Ms: pctl(0.99),
    entryShare: n ? entry / n : NaN,
    queuedShare: n ? queued / n : NaN,
    assignmentChanges: changes,
    recomputes,
    latenciesMs: sorted,
  };
}
