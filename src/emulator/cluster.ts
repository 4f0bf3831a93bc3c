import { fork, spawn, type ChildProcess, type ForkOptions } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewayCommand, GatewayMessage } from './gateway-worker.js';
import type { LinkSpec, NodeCommand, NodeMessage } from './node-host.js';
import { freePort } from './ports.js';
import { NetnsNetwork } from './netns.js';
import { linkSpecs, podSpecs, runtimeTopologyYaml, type DemoScenario } from './scenario.js';
import type { RequestRecord } from './stats.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const MAIN_JS = join(here, '..', 'cli', 'main.js');

export interface ClusterOptions {
  readonly scenario: DemoScenario;
  readonly outDir: string;
  readonly probeIntervalMs: number;
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
}

/** The control-plane policy of a demo policy label. */
export function basePolicy(label: string): string {
  return label.split('+')[0]!;
}

/** "proxima+extproc": gateways ask the ext_proc picker per request, as an Envoy gateway with the filter would. */
export function usesExtProc(label: string): boolean {
  return label.split('+').includes('extproc');
}

/** Wait for the first IPC message matching `pick` (or fail on timeout / a fatal message / exit). */
function nextMessage<M extends { type: string }, R>(
  child: ChildProcess,
  pick: (m: M) => R | undefined,
  timeoutMs: number,
  what: string,
): Promise<R> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    const onMessage = (m: M) => {
      if (m.type === 'fatal') return done(new Error(`${what}: ${(m as unknown as { error: string }).error}`));
      const r = pick(m);
      if (r !== undefined) done(undefined, r);
    };
    const onExit = (code: number | null) => done(new Error(`${what}: process exited with ${code}`));
    function done(err?: Error, value?: R) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value as R);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * The emulated edge cluster's processes: one node host per node (netem proxies, pods, probe agent),
 * the `proxima serve` control plane (restartable, same ports) and one gateway per node.
 */
export class EmulatedCluster {
  private s: DemoScenario;
  private network: NetnsNetwork | undefined;
  private readonly nodeHosts = new Map<string, ChildProcess>();
  private readonly gateways = new Map<string, ChildProcess>();
  private serveChild: ChildProcess | undefined;
  private ports = { xds: 0, admin: 0, extproc: 0, extender: 0 };
  pods: PodInfo[] = [];
  private readonly notReadyNodes = new Set<string>();
  currentPolicy = '';

  constructor(private readonly opts: ClusterOptions) {
    this.s = opts.scenario;
  }

  /** The scenario as run: with --netns, node IPs are the namespaces' addresses. */
  get scenario(): DemoScenario {
    return this.s;
  }

  /** Where `proxima serve` listens: loopback, or the bridge address with --netns. */
  get hostIp(): string {
    return this.network?.hostIp ?? '127.0.0.1';
  }

  get adminUrl(): string {
    return `http://${this.hostIp}:${this.ports.admin}`;
  }

  get xdsAddress(): string {
    return `${this.hostIp}:${this.ports.xds}`;
  }

  /** fork() a module on node `index`: inside its namespace with --netns (IPC survives `ip netns exec`). */
  private forkOnNode(index: number, module: string, options: ForkOptions): ChildProcess {
    if (!this.network) return fork(module, [], options);
    const { command, args } = this.network.exec(index, process.execPath, [...process.execArgv, module]);
    return spawn(command, args, {
      stdio: options.stdio as ['ignore', 'ignore', 'pipe', 'ipc'],
      ...(options.env ? { env: options.env } : {}),
    });
  }

  get topologyPath(): string {
    return join(this.opts.outDir, 'topology.yaml');
  }

  async startNodes(): Promise<void> {
    if (this.opts.netns && !this.network) {
      this.network = await NetnsNetwork.create({ nodeCount: this.s.nodes.length, progress: this.opts.progress });
      const plan = this.network.plan;
      this.s = { ...this.s, nodes: this.s.nodes.map((n, i) => ({ ...n, ip: plan.nodes[i]!.ip })) };
      this.opts.progress(
        `netns: bridge ${plan.bridge} ${plan.hostIp}/24; ${this.s.nodes.map((n, i) => `${n.name} in ${plan.nodes[i]!.namespace}@${n.ip}`).join(', ')}`,
      );
    }
    const host = this.hostIp;
    this.ports = { xds: await freePort(host), admin: await freePort(host), extproc: await freePort(host), extender: await freePort(host) };
    const nodeIps = Object.fromEntries(this.s.nodes.map((n) => [n.name, n.ip]));
    const links = linkSpecs(this.s);
    await Promise.all(
      this.s.nodes.map(async (n, i) => {
        const child = this.forkOnNode(i, join(here, 'node-host.js'), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
        child.stderr?.pipe(createWriteStream(join(this.opts.outDir, `node-${n.name}.log`)));
        this.nodeHosts.set(n.name, child);
        const up = nextMessage<NodeMessage, NodeMessage & { type: 'up' }>(
          child,
          (m) => (m.type === 'up' ? m : undefined),
          20_000,
          `node ${n.name}`,
        );
        const cmd: NodeCommand = {
          type: 'init',
          node: n.name,
          ip: n.ip,
          nodeIps,
          links,
          pods: podSpecs(this.s, n.name),
          seed: this.s.seed * 100 + i,
          ...(this.network ? { isolated: true } : {}),
          probe: {
            controlPlane: this.xdsAddress,
            intervalMs: this.opts.probeIntervalMs,
            timeoutMs: Math.min(1000, this.opts.probeIntervalMs),
          },
        };
        child.send(cmd);
        const m = await up;
        const specs = podSpecs(this.s, n.name);
        for (const p of m.pods)
          this.pods.push({
            node: n.name,
            name: p.name,
            address: p.address,
            port: p.port,
            capacity: specs.find((x) => x.name === p.name)?.concurrency ?? 1,
          });
      }),
    );
    this.pods.sort((a, b) => (a.name < b.name ? -1 : 1));
    this.writeTopology();
  }

  /** Write the runtime topology (the demo plays kubelet/EndpointSlices: pods of stopped nodes are not ready). */
  writeTopology(): void {
    writeFileSync(
      this.topologyPath,
      runtimeTopologyYaml(
        this.s,
        this.pods.map((p) => ({ ...p, ready: !this.notReadyNodes.has(p.node) })),
      ),
    );
  }

  /** Start `proxima serve` for a policy label ("proxima+extproc" runs the proxima policy; gateways then also use ext_proc). */
  async startControlPlane(label: string): Promise<void> {
    this.currentPolicy = label;
    const policy = basePolicy(label);
    const args = [
      MAIN_JS,
      'serve',
      '--topology',
      this.topologyPath,
      '--policy',
      policy,
      '--xds-listen',
      this.xdsAddress,
      '--admin-listen',
      `${this.hostIp}:${this.ports.admin}`,
      '--extproc-listen',
      `${this.hostIp}:${this.ports.extproc}`,
      '--extender-listen',
      `${this.hostIp}:${this.ports.extender}`,
      '--log-level',
      'warn',
      // A small cluster can afford faster feedback than the defaults (2 s each).
      '--lrs-interval-ms',
      '1000',
      '--recompute-interval-ms',
      '1000',
      ...(this.opts.serveArgs ?? []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.pipe(createWriteStream(join(this.opts.outDir, `serve-${label}.log`), { flags: 'a' }));
    this.serveChild = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`proxima serve exited with ${child.exitCode}; see serve-${policy}.log`);
      try {
        const r = await fetch(`${this.adminUrl}/readyz`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('proxima serve did not become ready within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Sample the control plane's priority-0 shares and learned inputs every `intervalMs` until the
   * returned function is called; it resolves to the samples (for the report and for diagnosis).
   */
  sampleControlPlane(intervalMs = 1000): () => Promise<unknown[]> {
    const samples: unknown[] = [];
    const started = performance.now();
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        await new Promise((r) => setTimeout(r, intervalMs));
        try {
          const a = (await (await fetch(`${this.adminUrl}/debug/assignments`)).json()) as {
            services: Record<
              string,
              { gateways: Record<string, { localities: Array<{ node: string; priority: number; sharePercent: number }>; reason: string }> }
            >;
          };
          const demand = (await (await fetch(`${this.adminUrl}/debug/demand`)).json()) as unknown;
          const shares: Record<string, Record<string, number>> = {};
          const reasons: Record<string, string> = {};
          for (const [g, x] of Object.entries(a.services[this.s.service.name]?.gateways ?? {})) {
            if (g === '*') continue;
            shares[g] = Object.fromEntries(x.localities.filter((l) => l.priority === 0).map((l) => [l.node, l.sharePercent]));
            reasons[g] = x.reason;
          }
          samples.push({ tMs: Math.round(performance.now() - started), shares, reasons, demand });
        } catch {
          // control plane restarting: skip this sample
        }
      }
    })();
    return async () => {
      stopped = true;
      await loop;
      return samples;
    };
  }

  /** Save the control plane's /debug views (assignments, demand, topology, clients) for the report. */
  async saveDebug(name: string): Promise<void> {
    const out: Record<string, unknown> = {};
    for (const view of ['assignments', 'demand', 'topology', 'clients', 'probes', 'extproc']) {
      try {
        const r = await fetch(`${this.adminUrl}/debug/${view}`);
        out[view] = r.ok ? await r.json() : `HTTP ${r.status}`;
      } catch (err) {
        out[view] = `unavailable: ${(err as Error).message}`;
      }
    }
    writeFileSync(join(this.opts.outDir, `debug-${name}.json`), JSON.stringify(out, null, 2) + '\n');
  }

  async stopControlPlane(): Promise<void> {
    const child = this.serveChild;
    this.serveChild = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Start one gateway per node and wait until each has served a request through xDS. */
  async startGateways(): Promise<void> {
    await Promise.all(
      this.s.nodes.map(async (n, i) => {
        const bootstrap = {
          xds_servers: [{ server_uri: this.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
          node: { id: `gateway-${n.name}`, cluster: 'proxima-demo', locality: { region: n.region, zone: n.zone, sub_zone: n.name } },
        };
        const child = this.forkOnNode(i, join(here, 'gateway-worker.js'), {
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
          env: {
            ...process.env,
            GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap),
            // In a namespace the node's address is real: connections already originate from it.
            ...(this.network ? {} : { PROXIMA_EMULATOR_SOURCE_ADDRESS: n.ip }),
          },
        });
        child.stderr?.pipe(createWriteStream(join(this.opts.outDir, `gateway-${n.name}.log`), { flags: 'a' }));
        this.gateways.set(n.name, child);
        const ready = nextMessage<GatewayMessage, GatewayMessage>(
          child,
          (m) => (m.type === 'ready' || m.type === 'warmup-failed' ? m : undefined),
          30_000,
          `gateway ${n.name}`,
        );
        const cmd: GatewayCommand = { type: 'warmup', target: `xds:///${this.s.service.host}`, timeoutMs: 25_000 };
        child.send(cmd);
        const m = await ready;
        if (m.type === 'warmup-failed') throw new Error(`gateway ${n.name} could not reach the function: ${m.error}`);
      }),
    );
  }

  async stopGateways(): Promise<void> {
    await Promise.all(
      [...this.gateways.values()].map(async (g) => {
        if (g.exitCode !== null) return;
        const exited = new Promise<void>((r) => g.once('exit', () => r()));
        g.kill('SIGKILL');
        await exited;
      }),
    );
    this.gateways.clear();
  }

  /** Run open-loop load at `rates` (requests/s per entry gateway) for `durationMs`; returns every request. */
  async runLoad(
    label: string,
    rates: ReadonlyMap<string, number>,
    durationMs: number,
    seed: number,
  ): Promise<{ records: RequestRecord[]; dropped: number }> {
    const results = await Promise.all(
      [...rates].map(async ([node, rate], i) => {
        const g = this.gateways.get(node);
        if (!g) throw new Error(`no gateway on ${node}`);
        const result = nextMessage<GatewayMessage, GatewayMessage & { type: 'result' }>(
          g,
          (m) => (m.type === 'result' && m.label === label ? m : undefined),
          durationMs + 60_000,
          `load on ${node}`,
        );
        const cmd: GatewayCommand = {
          type: 'run',
          label,
          target: `xds:///${this.s.service.host}`,
          ratePerSecond: rate,
          durationMs,
          spacing: 'poisson',
          maxInFlight: 2000,
          seed: seed * 31 + i,
          deadlineMs: 10_000,
          ...(usesExtProc(this.currentPolicy)
            ? { extproc: { address: `${this.hostIp}:${this.ports.extproc}`, node, authority: this.s.service.host } }
            : {}),
        };
        g.send(cmd);
        const r = await result;
        const records: RequestRecord[] = r.startMs.map((startMs, k) => ({
          gateway: node,
          startMs,
          latencyMs: r.latencyMs[k]!,
          ok: r.ok[k]!,
          servedBy: r.servedBy[k]!,
          ...(r.errors[k] ? { error: r.errors[k] } : {}),
        }));
        return { records, dropped: r.dropped };
      }),
    );
    return { records: results.flatMap((r) => r.records), dropped: results.reduce((s, r) => s + r.dropped, 0) };
  }

  setLinks(links: LinkSpec[]): void {
    for (const child of this.nodeHosts.values()) child.send({ type: 'links', links } satisfies NodeCommand);
  }

  async podsAction(node: string, action: 'stop' | 'start'): Promise<void> {
    const child = this.nodeHosts.get(node);
    if (!child) throw new Error(`no node ${node}`);
    const done = nextMessage<NodeMessage, true>(
      child,
      (m) => (m.type === 'pods-done' ? true : undefined),
      10_000,
      `pods ${action} on ${node}`,
    );
    child.send({ type: 'pods', action } satisfies NodeCommand);
    await done;
  }

  /** Mark a node's pods (not) ready in the served topology, as kubelet + EndpointSlices would. */
  setNodePodsReady(node: string, ready: boolean): void {
    if (ready) this.notReadyNodes.delete(node);
    else this.notReadyNodes.add(node);
    this.writeTopology();
  }

  async shutdown(): Promise<void> {
    await this.stopGateways();
    await this.stopControlPlane();
    await Promise.all(
      [...this.nodeHosts.values()].map(async (c) => {
        if (c.exitCode !== null) return;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGKILL');
        await exited;
      }),
    );
    this.nodeHosts.clear();
    // Idempotent: a signal handler and the demo's `finally` may both shut down.
    await this.network?.destroy();
  }
}
