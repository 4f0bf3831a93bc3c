import type { GatewayCommand, GatewayMessage } from './gateway-worker.js';
import type { LinkSpec, NodeCommand } from './node-host.js';
import { podSpecs, type DemoScenario } from './scenario.js';
import type { RequestRecord } from './stats.js';
import { DEMO_CLIENT_DEADLINE_MS, DEMO_QUEUE_PROXY_INTERVAL_MS } from '../sim/from-demo.js';

/** The emulated cluster's options (cluster.ts), and the messages it sends its node hosts and gateways and reads back. */

export interface ClusterOptions {
  readonly scenario: DemoScenario;
  readonly outDir: string;
  readonly probeIntervalMs: number;
  /** How often each node's agent scrapes its pods' queue-proxies (default 2000 ms, FaaSt's refresh). */
  readonly queueProxyIntervalMs?: number;
  /** The window of the pods' latencies the agents report (default the agent's, 10 s). */
  readonly queueProxyWindowMs?: number;
  readonly progress: (message: string) => void;
  /** Extra `proxima serve` flags (e.g. a shorter recompute interval). */
  readonly serveArgs?: readonly string[];
  /** One network namespace per node (root only; see netns.ts) instead of 127.0.N.1 loopback addresses. */
  readonly netns?: boolean;
}

export interface PodInfo {
  readonly node: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly capacity: number;
  /** Its queue-proxy's autometric (9090) port on the node's address. */
  readonly autometricPort?: number;
}

/** The `init` of node `index`'s host: its pods, links, activator and probe agent. */
export function nodeInitCommand(
  s: DemoScenario,
  index: number,
  at: { readonly nodeIps: Record<string, string>; readonly links: LinkSpec[]; readonly controlPlane: string; readonly isolated: boolean },
  probe: { readonly probeIntervalMs: number; readonly queueProxyIntervalMs?: number; readonly queueProxyWindowMs?: number },
): NodeCommand {
  const n = s.nodes[index]!;
  return {
    type: 'init',
    node: n.name,
    ip: n.ip,
    nodeIps: at.nodeIps,
    links: at.links,
    pods: podSpecs(s, n.name),
    seed: s.seed * 100 + index,
    ...(s.activator?.node === n.name ? { activator: { containerConcurrency: s.pods[0]?.concurrency ?? 0, holdTimeoutMs: 30_000 } } : {}),
    ...(at.isolated ? { isolated: true } : {}),
    probe: {
      controlPlane: at.controlPlane,
      intervalMs: probe.probeIntervalMs,
      timeoutMs: Math.min(1000, probe.probeIntervalMs),
      queueProxyIntervalMs: probe.queueProxyIntervalMs ?? DEMO_QUEUE_PROXY_INTERVAL_MS,
      ...(probe.queueProxyWindowMs ? { queueProxyWindowMs: probe.queueProxyWindowMs } : {}),
    },
  };
}

/** A gateway's first request through its xDS channel, until the function answers (25 s at most). */
export function warmupCommand(s: DemoScenario): GatewayCommand {
  return {
    type: 'warmup',
    target: `xds:///${s.service.host}`,
    timeoutMs: 25_000,
    ...(s.service.method ? { method: s.service.method } : {}),
  };
}

/** Open-loop Poisson load from one gateway, through ext_proc when `extproc` is given. */
export function loadCommand(
  s: DemoScenario,
  o: {
    readonly label: string;
    readonly rate: number;
    readonly durationMs: number;
    readonly seed: number;
    readonly extproc: { address: string; node: string; authority: string } | undefined;
  },
): GatewayCommand {
  return {
    type: 'run',
    label: o.label,
    target: `xds:///${s.service.host}`,
    ratePerSecond: o.rate,
    durationMs: o.durationMs,
    spacing: 'poisson',
    maxInFlight: 2000,
    seed: o.seed,
    deadlineMs: DEMO_CLIENT_DEADLINE_MS,
    ...(s.service.method ? { method: s.service.method } : {}),
    ...(o.extproc ? { extproc: o.extproc } : {}),
  };
}

/** A gateway's load result as one record per request (its columns joined back into rows). */
export function loadRecords(node: string, r: GatewayMessage & { type: 'result' }): RequestRecord[] {
  return r.startMs.map((startMs, k) => ({
    gateway: node,
    startMs,
    latencyMs: r.latencyMs[k]!,
    ok: r.ok[k]!,
    servedBy: r.servedBy[k]!,
    ...(r.podMs && r.podMs[k]! >= 0 ? { podMs: r.podMs[k]! } : {}),
    ...(r.serviceMs && r.serviceMs[k]! >= 0 ? { serviceMs: r.serviceMs[k]! } : {}),
    ...(r.decideMs && r.decideMs[k]! >= 0 ? { decideMs: r.decideMs[k]! } : {}),
    ...(r.fellBack?.[k] ? { fellBack: true } : {}),
    ...(r.skippedPicker?.[k] ? { skippedPicker: true } : {}),
    ...(r.errors[k] ? { error: r.errors[k] } : {}),
  }));
}
