import { KNATIVE_KPA_DEFAULTS, scaleKpaTime, type KpaConfig } from '../../autoscaler/config.js';
import { QUEUE_PROXY_WINDOW_MS } from '../../probe/queue-proxy/pod-tracker.js';
import type { ClusterOptions } from '../cluster.js';
import { FAAST_LINKS, FAAST_NODES, FUNCTION_HOST, type DemoScenario } from '../scenario.js';
import type { NodeCapacity } from './revision-pods.js';

/**
 * The closed-loop scenario (pure data): FaaSt's three nodes (edge-1, edge-2, cloud-1; edge↔cloud
 * 50 ± 10 and 100 ± 20 ms, edge↔edge 20 ± 4 ms), one Knative revision (containerConcurrency 2,
 * 50 ms service time) that starts with one pod on each edge node, steady demand at both edges, then
 * a step at edge-1 that stays for `stepMs` and falls away. Knative's autoscaler adds pods, the
 * emulated scheduler places them (with or without Proxima's extender) and routing follows.
 *
 * Time runs `timeFactor` (0.25) times Knative's clock on both sides: config-autoscaler's durations
 * (stable window 60 s → 15 s, panic window 6 s → 1.5 s, tick 2 s → 0.5 s, metric bucket and the
 * queue-proxy Stat window 1 s → 0.25 s, scale-to-zero grace 30 s → 7.5 s) and Proxima's LRS and
 * recompute intervals (defaults 2 s → 0.5 s), the agents' queue-proxy scrape interval (1 s → 0.25 s:
 * the autoscaler's own scrape tick, knative/serving `pkg/autoscaler/metrics/collector.go`
 * scrapeTickInterval, so the extender's view of the pods is as fresh as the KPA's; the agent's
 * default is 2 s, FaaSt's) and the window of the pods' latencies they report (10 s → 2.5 s).
 * Rates, thresholds and targets are
 * Knative's defaults. Not scaled: the pods' start-up (a real duration) and the probe interval (1 s;
 * the RTTs are constant here, so no routing input averages over it).
 */

export interface ClosedLoopSetup {
  /** Report label. */
  readonly label: string;
  /** Routing policy of the control plane ("even": Kourier's even split, i.e. stock Knative). */
  readonly policy: string;
  /** New pods are placed with Proxima's extender (else by the scheduler's own scores only). */
  readonly extender: boolean;
}

export const CLOSED_LOOP_SETUPS: readonly ClosedLoopSetup[] = Object.freeze([
  { label: 'knative', policy: 'even', extender: false },
  { label: 'proxima', policy: 'proxima', extender: false },
  { label: 'proxima+extender', policy: 'proxima', extender: true },
]);

export interface ClosedLoopScenario {
  readonly base: DemoScenario;
  readonly kpa: KpaConfig;
  readonly timeFactor: number;
  readonly containerConcurrency: number;
  readonly nodeCapacity: readonly NodeCapacity[];
  readonly podRequests: { readonly cpuMilli: number; readonly memoryMiB: number };
  /** Container start plus readiness, ms (not scaled: a real start-up time). */
  readonly podStartMs: number;
  /** Requests/s entering each gateway all along. */
  readonly baseRps: Readonly<Record<string, number>>;
  readonly stepGateway: string;
  /** Extra requests/s at `stepGateway` during the step. */
  readonly stepExtraRps: number;
  /** Load before the step, during it, and after it fell away, ms. */
  readonly beforeMs: number;
  readonly stepMs: number;
  readonly afterMs: number;
  readonly probeIntervalMs: number;
  /** Proxima's LRS and recompute interval. */
  readonly lrsIntervalMs: number;
  /** The node agents' queue-proxy scrape interval and the window of the latencies they report. */
  readonly queueProxyIntervalMs: number;
  readonly queueProxyWindowMs: number;
  readonly seed: number;
}

export const TIME_FACTOR = 0.25;

export function closedLoopScenario(seed: number, timeFactor = TIME_FACTOR): ClosedLoopScenario {
  const kpa = scaleKpaTime(KNATIVE_KPA_DEFAULTS, timeFactor);
  const pod = { count: 1, concurrency: 2, serviceTimeMs: 50, serviceTimeCv: 0.5, statWindowMs: kpa.bucketMs };
  return {
    base: {
      nodes: FAAST_NODES,
      links: FAAST_LINKS,
      service: { name: 'default/hello', host: FUNCTION_HOST },
      pods: [
        { node: 'edge-1', ...pod },
        { node: 'edge-2', ...pod },
      ],
      users: [],
      ratePerUser: 10,
      warmupMs: 3000,
      measureMs: 0,
      policies: CLOSED_LOOP_SETUPS.map((s) => s.policy),
      seed,
    },
    kpa,
    timeFactor,
    containerConcurrency: pod.concurrency,
    // Small edge machines, a large cloud machine; system pods already take some of each.
    nodeCapacity: [
      {
        name: 'edge-1',
        zone: zoneOf('edge-1'),
        allocatableCpuMilli: 4000,
        allocatableMemoryMiB: 8192,
        maxPods: 110,
        otherCpuMilli: 500,
        otherMemoryMiB: 1024,
        otherPods: 4,
      },
      {
        name: 'edge-2',
        zone: zoneOf('edge-2'),
        allocatableCpuMilli: 4000,
        allocatableMemoryMiB: 8192,
        maxPods: 110,
        otherCpuMilli: 500,
        otherMemoryMiB: 1024,
        otherPods: 4,
      },
      {
        name: 'cloud-1',
        zone: zoneOf('cloud-1'),
        allocatableCpuMilli: 16000,
        allocatableMemoryMiB: 65536,
        maxPods: 110,
        otherCpuMilli: 2000,
        otherMemoryMiB: 4096,
        otherPods: 12,
      },
    ],
    podRequests: { cpuMilli: 250, memoryMiB: 256 },
    podStartMs: 1000,
    baseRps: { 'edge-1': 15, 'edge-2': 15 },
    stepGateway: 'edge-1',
    stepExtraRps: 35,
    beforeMs: 8000,
    stepMs: 16_000,
    afterMs: 8000,
    probeIntervalMs: 1000,
    lrsIntervalMs: 2000 * timeFactor,
    // As often as the KPA scrapes the same pods (its metric bucket: once a second in Knative).
    queueProxyIntervalMs: kpa.bucketMs,
    queueProxyWindowMs: QUEUE_PROXY_WINDOW_MS * timeFactor,
    seed,
  };
}

function zoneOf(node: string): string | undefined {
  return FAAST_NODES.find((n) => n.name === node)?.zone;
}

/** The emulated cluster's loop timings for the scenario (every run and the scale-to-zero one). */
export function closedLoopClusterTiming(
  sc: ClosedLoopScenario,
): Pick<ClusterOptions, 'probeIntervalMs' | 'queueProxyIntervalMs' | 'queueProxyWindowMs' | 'serveArgs'> {
  return {
    probeIntervalMs: sc.probeIntervalMs,
    queueProxyIntervalMs: sc.queueProxyIntervalMs,
    queueProxyWindowMs: sc.queueProxyWindowMs,
    serveArgs: ['--lrs-interval-ms', String(sc.lrsIntervalMs), '--recompute-interval-ms', String(sc.lrsIntervalMs)],
  };
}

/** The node with the lowest configured RTT to `node` (its nearest neighbour). */
export function nearestNodeTo(s: ClosedLoopScenario['base'], node: string): string | undefined {
  let best: { name: string; rttMs: number } | undefined;
  for (const l of s.links) {
    const other = l.a === node ? l.b : l.b === node ? l.a : undefined;
    if (other !== undefined && (!best || l.rttMs < best.rttMs)) best = { name: other, rttMs: l.rttMs };
  }
  return best?.name;
}
