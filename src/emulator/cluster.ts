import { fork, spawn, type ChildProcess, type ForkOptions } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewayCommand, GatewayMessage } from './gateway-worker.js';
import type { LinkSpec, NodeCommand, NodeMessage } from './node-host.js';
import { freePort } from './ports.js';
import { nextMessage } from './ipc.js';
import { sampleControlPlane, saveDebug } from './control-plane-views.js';
import { usesExtProc, basePolicy } from './setups.js';
import { NetnsNetwork } from './netns.js';
import { linkSpecs, podSpecs, runtimeTopologyYaml, type DemoScenario } from './scenario.js';
import type { RequestRecord } from './stats.js';
import type { ActivatorChoice, DataPathKind, SksMode } from '../model/data-path.js';
import { emulatedTopologyEndpoints } from './knative-sks.js';
import { loadCommand, loadRecords, nodeInitCommand, warmupCommand, type ClusterOptions, type PodInfo } from './cluster-messages.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const MAIN_JS = join(here, '..', 'cli', 'main.js');

export type { ClusterOptions, PodInfo } from './cluster-messages.js';

/** Send a node host `cmd` and wait (10 s at most) for the reply `pick` recognises. */
function ask<R>(host: ChildProcess, cmd: NodeCommand, pick: (m: NodeMessage) => R | undefined, what: string): Promise<R> {
  const reply = nextMessage<NodeMessage, R>(host, pick, 10_000, what);
  host.send(cmd);
  return reply;
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
  /** Pods (by name) not ready yet: started but still in their start-up delay (closed-loop demo). */
  readonly notReadyPods = new Set<string>();
  currentPolicy = '';
  /** Where the emulated activator listens (`demo --activator`). */
  activator: { node: string; address: string; port: number } | undefined;
  /** With the activator: what Proxima makes of it (the setup's `+public` = keep). */
  private activatorChoice: ActivatorChoice = 'bypass';

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
    // The admin port stays on loopback (only this process reads it), so /debug and /ui need no token.
    return `http://127.0.0.1:${this.ports.admin}`;
  }

  /** The extender's URL prefix, as kube-scheduler's `urlPrefix` would name it. */
  get extenderUrl(): string {
    return `http://${this.hostIp}:${this.ports.extender}/scheduler`;
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
        const cmd = nodeInitCommand(
          this.s,
          i,
          { nodeIps, links, controlPlane: this.xdsAddress, isolated: this.network !== undefined },
          this.opts,
        );
        child.send(cmd);
        const m = await up;
        if (m.activator) this.activator = { node: n.name, ...m.activator };
        const specs = podSpecs(this.s, n.name);
        for (const p of m.pods)
          this.pods.push({
            node: n.name,
            name: p.name,
            address: p.address,
            port: p.port,
            capacity: specs.find((x) => x.name === p.name)?.concurrency ?? 1,
            autometricPort: p.autometricPort,
          });
      }),
    );
    this.pods.sort((a, b) => (a.name < b.name ? -1 : 1));
    this.writeTopology();
    await this.updateActivatorTargets();
  }

  /**
   * Write the runtime topology (the demo plays kubelet/EndpointSlices: pods of stopped nodes are not
   * ready). With the activator it also plays Knative's KPA and SKS reconciler (the public endpoints)
   * and Proxima's Kubernetes source (what the setup makes of them: revisionDataPath).
   */
  writeTopology(): void {
    const pods = this.pods.map((p) => ({
      address: p.address,
      port: p.port,
      node: p.node,
      capacity: p.capacity,
      ready: !this.notReadyNodes.has(p.node) && !this.notReadyPods.has(p.name),
    }));
    const a = this.activator;
    const act = this.s.activator;
    if (!a || !act) {
      writeFileSync(this.topologyPath, runtimeTopologyYaml(this.s, pods));
      return;
    }
    const t = emulatedTopologyEndpoints(pods, a, this.s.pods[0]?.concurrency ?? 0, act.targetBurstCapacity, this.activatorChoice);
    this.dataPathState = t.state;
    writeFileSync(this.topologyPath, runtimeTopologyYaml(this.s, t.endpoints, t.activators));
  }

  /** The emulated revision's SKS mode and what the gateways reach first (for the report). */
  dataPathState: { mode: SksMode; ebc: number; path: DataPathKind; choice: ActivatorChoice } | undefined;

  /** Route around the activator (`bypass`) or to the public endpoints (`keep`); rewrites the topology. */
  setActivatorChoice(choice: ActivatorChoice): void {
    this.activatorChoice = choice;
    this.writeTopology();
  }

  /** Tell the activator the ready pods (it watches the private Service's endpoints). */
  async updateActivatorTargets(): Promise<void> {
    const a = this.activator;
    const host = a ? this.nodeHosts.get(a.node) : undefined;
    if (!a || !host) return;
    const dests = this.pods
      .filter((p) => !this.notReadyNodes.has(p.node) && !this.notReadyPods.has(p.name))
      .map((p) => `${p.address}:${p.port}`);
    await ask(
      host,
      { type: 'activator-targets', dests },
      (m) => (m.type === 'activator-targets-done' ? true : undefined),
      'activator targets',
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
      `127.0.0.1:${this.ports.admin}`,
      '--extproc-listen',
      `${this.hostIp}:${this.ports.extproc}`,
      '--extender-listen',
      `${this.hostIp}:${this.ports.extender}`,
      // With --netns the nodes reach serve on the bridge address: the emulated cluster's own network, plaintext by design.
      ...(this.network ? ['--insecure'] : []),
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

  /** Sample the control plane's priority-0 shares every `intervalMs` until the returned function is called. */
  sampleControlPlane(intervalMs = 1000): () => Promise<unknown[]> {
    return sampleControlPlane(this.adminUrl, this.s.service.name, intervalMs);
  }

  /** Save the control plane's /debug views for the report. */
  saveDebug(name: string): Promise<void> {
    return saveDebug(this.adminUrl, this.opts.outDir, name);
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
        child.send(warmupCommand(this.s));
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
        const extproc = usesExtProc(this.currentPolicy)
          ? { address: `${this.hostIp}:${this.ports.extproc}`, node, authority: this.s.service.host }
          : undefined;
        const cmd = loadCommand(this.s, { label, rate, durationMs, seed: seed * 31 + i, extproc });
        g.send(cmd);
        const r = await result;
        const records = loadRecords(node, r);
        return { records, dropped: r.dropped };
      }),
    );
    return { records: results.flatMap((r) => r.records), dropped: results.reduce((s, r) => s + r.dropped, 0) };
  }

  /** Send node `node`'s host a command and wait for the reply `pick` recognises (10 s at most). */
  askNode<R>(node: string, cmd: NodeCommand, pick: (m: NodeMessage) => R | undefined, what: string): Promise<R> {
    const host = this.nodeHosts.get(node);
    if (!host) return Promise.reject(new Error(`no node ${node}`));
    return ask(host, cmd, pick, what);
  }

  setLinks(links: LinkSpec[]): void {
    for (const child of this.nodeHosts.values()) child.send({ type: 'links', links } satisfies NodeCommand);
  }

  async podsAction(node: string, action: 'stop' | 'start'): Promise<void> {
    const child = this.nodeHosts.get(node);
    if (!child) throw new Error(`no node ${node}`);
    await ask(child, { type: 'pods', action }, (m) => (m.type === 'pods-done' ? true : undefined), `pods ${action} on ${node}`);
  }

  /** Mark a node's pods (not) ready in the served topology and for the activator, as kubelet + EndpointSlices would. */
  async setNodePodsReady(node: string, ready: boolean): Promise<void> {
    if (ready) this.notReadyNodes.delete(node);
    else this.notReadyNodes.add(node);
    this.writeTopology();
    await this.updateActivatorTargets();
  }

  /**
   * Wait until no pod and no activator has work left (a setup that overloaded them must not hand
   * its backlog to the next one); gives up after `timeoutMs` and says so.
   */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = await Promise.all(
        [...this.nodeHosts.entries()].map(([name, host]) =>
          ask(host, { type: 'stats' }, (m) => (m.type === 'stats' ? m.busy : undefined), `stats of ${name}`),
        ),
      );
      if (busy.every((b) => b === 0)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Requests the activator held (no pod had room) and proxied so far. */
  async activatorStats(): Promise<{ held: number; proxied: number; concurrency: number }> {
    const host = this.activator ? this.nodeHosts.get(this.activator.node) : undefined;
    if (!host) return { held: 0, proxied: 0, concurrency: 0 };
    return ask(
      host,
      { type: 'stats' },
      (m) => (m.type === 'stats' ? (m.activator ?? { held: 0, proxied: 0, concurrency: 0 }) : undefined),
      'activator stats',
    );
  }

  /** One request from `node`'s gateway; resolves with its outcome. */
  async invokeOnce(node: string, deadlineMs: number): Promise<GatewayMessage & { type: 'once-result' }> {
    const g = this.gateways.get(node);
    if (!g) throw new Error(`no gateway on ${node}`);
    const result = nextMessage<GatewayMessage, GatewayMessage & { type: 'once-result' }>(
      g,
      (m) => (m.type === 'once-result' ? m : undefined),
      deadlineMs + 5000,
      `one request from ${node}`,
    );
    g.send({ type: 'once', target: `xds:///${this.s.service.host}`, deadlineMs } satisfies GatewayCommand);
    return result;
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
