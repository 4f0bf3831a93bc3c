import { sameAssignment } from '../policy/tiers.js';
import type { GatewayAssignment, Policy, PolicyInput } from '../policy/types.js';
import { pickLocality } from './envoy-lb.js';
import { EventQueue } from './events.js';
import type { LoopViewOptions } from './loop-view.js';
import { DEFAULT_LOOP_VIEW, LoopView } from './loop-view.js';
import { exponential, jittered, lognormal, standardNormal, streamFor, type Rng } from '../util/rng.js';
import type { Scenario } from './scenario.js';
import { link, offeredRps, scenarioBackends, truthInput } from './scenario.js';

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
  /**
   * Fixed time added to every response (client, proxies, framing: what a real request path costs
   * beyond RTT and service). The loop's latency view sees it too, as LRS would. Default 0.
   */
  readonly overheadMs?: number;
  /**
   * Load before the run (e.g. the earlier levels of a sweep against the same control plane): the
   * loop learns from it, nothing in it is measured. Warm-up and measurement follow it. Default none.
   */
  readonly prelude?: ReadonlyArray<{ readonly durationMs: number; readonly rpsByGateway: Readonly<Record<string, number>> }>;
  /** Feed the policy the true inputs (mean RTTs, pure service time, true demand). */
  readonly truth?: boolean;
  /** Change the world during the run (e.g. a link slowing down); called once at `atMs`. */
  readonly step?: { readonly atMs: number; readonly apply: (world: MutableWorld) => void };
  /** Per-request endpoint choice (ext_proc) in place of Envoy's locality draw and round robin. */
  readonly chooser?: EndpointChooser;
  /** Called with each recompute's assignment table (after warm-up too), for stability checks. */
  readonly onAssign?: (atMs: number, table: ReadonlyMap<string, GatewayAssignment>) => void;
}

/** A pod the chooser may pick: `pod` indexes its node's pods. */
export interface SimPodView {
  readonly node: string;
  readonly pod: number;
  readonly slots: number;
}

export interface EndpointChooser {
  /** The pod for one request entering `gateway`, and what to call when its response is back there. */
  choose(
    nowMs: number,
    gateway: string,
    assignment: GatewayAssignment | undefined,
    pods: readonly SimPodView[],
  ): { readonly node: string; readonly pod: number; done(nowMs: number): void } | undefined;
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
  /** Per node: measured requests it served and their summed time in the pod (queue wait included), ms. */
  readonly servedByNode: Readonly<Record<string, { readonly requests: number; readonly inPodSumMs: number; readonly appSumMs: number }>>;
  /** Measured requests per entry gateway per serving node. */
  readonly routed: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Requests/s that arrived at each gateway from the end of the prelude to the end of the run (warm-up included, where the rate is the level's): the load as drawn, not as configured. */
  readonly arrivedRps: Readonly<Record<string, number>>;
}

interface Request {
  readonly startMs: number;
  readonly gateway: string;
  readonly node: string;
  readonly rttMs: number;
  /** Gateway → node part of rttMs. */
  readonly upMs: number;
  readonly measured: boolean;
  /** The pod the chooser picked (else round robin at the node), and its completion hook. */
  readonly pod?: number;
  readonly done?: (nowMs: number) => void;
  waited: boolean;
  /** When a pod's user container took it (set when service starts). */
  serviceStartMs?: number;
}

interface Pod {
  /** Index among its node's pods (the pod a queue-proxy measures for). */
  readonly id: number;
  busy: number;
  queue: Request[];
  head: number;
}

export const SERVICE = 'default/fn';

/** One request's (or probe's) RTT on link `l` and its outbound part, as the simulated network draws it. */
export function sampleLinkRtt(s: Scenario, l: { rttMs: number; jitterMs: number }, rng: Rng): { rttMs: number; upMs: number } {
  if (s.rttJitter !== 'normal') {
    const rttMs = jittered(rng, l.rttMs, l.jitterMs);
    return { rttMs, upMs: rttMs / 2 };
  }
  // Each direction waits for the slowest of its segments (head-of-line on a multiplexed connection).
  const oneWay = () => {
    let d = 0;
    for (let k = 0; k < (s.segmentsPerDirection ?? 1); k++) d = Math.max(d, l.rttMs / 2 + (l.jitterMs / 2) * standardNormal(rng));
    return d;
  };
  const upMs = oneWay();
  return { rttMs: upMs + oneWay(), upMs };
}

export function runSimulation(o: RunOptions): RunResult {
  const s = o.scenario;
  const recomputeMs = o.recomputeMs ?? 2000;
  const probeMs = o.probeIntervalMs ?? 1000;
  const loopOpts = o.loop ?? DEFAULT_LOOP_VIEW;
  const preludeMs = (o.prelude ?? []).reduce((a, p) => a + p.durationMs, 0);
  const warmupEndMs = preludeMs + o.warmupMs;
  const endMs = warmupEndMs + o.measureMs;
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
  const overheadMs = o.overheadMs ?? 0;
  const sampleRtt = (rng: Rng, l: { rttMs: number; jitterMs: number }) => sampleLinkRtt(s, l, rng);
  // A probe is one small write each way (src/probe/agent.ts answers in one): no segment to wait for.
  const probeScenario: Scenario = { ...s, segmentsPerDirection: 1 };
  const serviceOf = new Map(
    s.nodes.map((n) => [n.name, { meanMs: n.serviceTimeMs ?? s.serviceTimeMs, sigma: n.serviceSigma ?? s.serviceSigma }] as const),
  );

  const pods = new Map<string, Pod[]>(
    s.nodes.map((n) => [n.name, Array.from({ length: n.pods }, (_, id) => ({ id, busy: 0, queue: [], head: 0 }))]),
  );
  const slots = new Map(s.nodes.map((n) => [n.name, n.slotsPerPod] as const));
  const podViews: SimPodView[] = s.nodes.flatMap((n) =>
    Array.from({ length: n.pods }, (_, pod) => ({ node: n.name, pod, slots: n.slotsPerPod })),
  );
  const rr = new Map<string, number>();
  const backends = scenarioBackends(s);
  const demandOf = (g: string) => offeredRps(s, o.users, g);
  const view = new LoopView(loopOpts, (a, b) => linkOf(a, b).rttMs, names);
  const truth = (previous?: ReadonlyMap<string, GatewayAssignment>): PolicyInput =>
    truthInput(s, { service: SERVICE, users: o.users, rttMs: (a, b) => linkOf(a, b).rttMs, backends, ...(previous ? { previous } : {}) });

  const q = new EventQueue();
  let table: Map<string, GatewayAssignment> = new Map();
  let changes = 0;
  let recomputes = 0;
  const latencies: number[] = [];
  let entry = 0;
  let queued = 0;
  const servedByNode: Record<string, { requests: number; inPodSumMs: number; appSumMs: number }> = {};
  const routed: Record<string, Record<string, number>> = {};
  const arrived: Record<string, number> = {};

  const recompute = (now: number) => {
    if (loopOpts.podScrapeIntervalMs === undefined) view.refreshLatency(now);
    const previous = table.size ? table : undefined;
    const input = o.truth ? truth(previous) : view.input(SERVICE, gateways, backends, previous);
    const next = o.policy.assign(input);
    if (now >= warmupEndMs) {
      recomputes++;
      if (gateways.some((g) => !sameAssignment(table.get(g), next.get(g)))) changes++;
    }
    table = next;
    o.onAssign?.(now, next);
  };

  const startService = (now: number, pod: Pod, req: Request) => {
    pod.busy++;
    const st = serviceOf.get(req.node)!;
    const done = now + lognormal(serviceRng, st.meanMs, st.sigma);
    req.serviceStartMs = now;
    q.push(done, () => finish(done, pod, req));
  };

  const finish = (now: number, pod: Pod, req: Request) => {
    pod.busy--;
    const arrivedAtNode = req.startMs + req.upMs;
    view.completion(req.node, now, now - arrivedAtNode + overheadMs, {
      pod: pod.id,
      inPodMs: now - arrivedAtNode,
      appMs: now - req.serviceStartMs!,
    });
    if (req.done) {
      const back = now + (req.rttMs - req.upMs) + overheadMs;
      const done = req.done;
      q.push(back, () => done(back));
    }
    if (req.measured) {
      latencies.push(now + (req.rttMs - req.upMs) - req.startMs + overheadMs);
      if (req.node === req.gateway) entry++;
      if (req.waited) queued++;
      const served = (servedByNode[req.node] ??= { requests: 0, inPodSumMs: 0, appSumMs: 0 });
      served.requests++;
      served.inPodSumMs += now - arrivedAtNode;
      served.appSumMs += now - req.serviceStartMs!;
      const row = (routed[req.gateway] ??= {});
      row[req.node] = (row[req.node] ?? 0) + 1;
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
    let pod = req.pod !== undefined ? list[req.pod] : undefined;
    if (!pod) {
      const k = `${req.gateway}>${req.node}`;
      const i = rr.get(k) ?? 0;
      rr.set(k, (i + 1) % list.length);
      pod = list[i]!;
    }
    if (pod.busy < slots.get(req.node)!) startService(now, pod, req);
    else {
      req.waited = true;
      pod.queue.push(req);
    }
  };

  const health = (node: string) => ({ healthy: pods.get(node)?.length ?? 0, total: pods.get(node)?.length ?? 0 });

  const route = (now: number, gateway: string) => {
    view.arrival(gateway);
    if (now >= preludeMs) arrived[gateway] = (arrived[gateway] ?? 0) + 1;
    const a = table.get(gateway);
    const chosen = o.chooser?.choose(now, gateway, a, podViews);
    const node = chosen ? chosen.node : a ? pickLocality(a, health, routeRng) : undefined;
    if (node) {
      const { rttMs, upMs } = sampleRtt(rttRng, linkOf(gateway, node));
      const req: Request = {
        startMs: now,
        gateway,
        node,
        rttMs,
        upMs,
        measured: now >= warmupEndMs,
        waited: false,
        ...(chosen ? { pod: chosen.pod, done: (t: number) => chosen.done(t) } : {}),
      };
      const at = now + upMs;
      q.push(at, () => arriveAtNode(at, req));
    }
  };

  const arrival = (now: number, gateway: string, meanGapMs: number) => {
    route(now, gateway);
    const next = now + exponential(arrivalsRng, meanGapMs);
    if (next < endMs) q.push(next, () => arrival(next, gateway, meanGapMs));
  };

  // Schedules.
  recompute(0);
  if (o.prelude?.length) {
    // Piecewise-constant Poisson rates: at a phase boundary a gateway restarts with the new rate (memoryless).
    const phases: Array<{ startMs: number; endMs: number; rps: (g: string) => number }> = [];
    let t = 0;
    for (const p of o.prelude) {
      phases.push({ startMs: t, endMs: t + p.durationMs, rps: (g) => p.rpsByGateway[g] ?? 0 });
      t += p.durationMs;
    }
    phases.push({ startMs: t, endMs, rps: demandOf });
    const scheduleFrom = (fromMs: number, g: string) => {
      for (const ph of phases) {
        if (ph.endMs <= fromMs) continue;
        const rps = ph.rps(g);
        if (rps <= 0) continue;
        const next = Math.max(fromMs, ph.startMs) + exponential(arrivalsRng, 1000 / rps);
        if (next < ph.endMs) {
          q.push(next, () => {
            route(next, g);
            scheduleFrom(next, g);
          });
          return;
        }
      }
    };
    for (const g of gateways) scheduleFrom(0, g);
  } else
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
          view.probe(a, b, sampleLinkRtt(probeScenario, linkOf(a, b), probeRng).rttMs);
        }
  });
  every(loopOpts.lrsIntervalMs, () => view.lrsReport(gateways));
  if (loopOpts.podScrapeIntervalMs !== undefined) every(loopOpts.podScrapeIntervalMs, (now) => view.refreshLatency(now));
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
    servedByNode,
    routed,
    arrivedRps: Object.fromEntries(Object.entries(arrived).map(([g, c]) => [g, (c * 1000) / (endMs - preludeMs)])),
  };
}
