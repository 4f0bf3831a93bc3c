/**
 * One emulated node, as a child process of the demo: its ingress "NIC" (user-space netem delay
 * proxies keyed by the caller's node), its function pods and its `proxima probe` agent. Outgoing
 * loopback connections originate from the node's own address (127.0.N.1). Not a user-facing command.
 */
import { Registry } from 'prom-client';
import { DelayProxy } from './delay-proxy.js';
import { freePort } from './ports.js';
import { FunctionPod } from './function-pod.js';
import { MutableDelayMatrix, type LinkDelay } from './netem.js';
import { mulberry32 } from '../util/rng.js';
import { bindLoopbackConnectionsTo } from './source-address.js';
import { silentLogger } from '../log.js';
import { EmulatedActivator } from './activator.js';
import { QueueProxyMetricsServer } from './queue-proxy-server.js';
import type { ScrapeTarget } from '../probe/queue-proxy/scraper.js';

export interface PodSpec {
  readonly name: string;
  readonly service: string;
  readonly concurrency: number;
  readonly serviceTimeMs: number;
  readonly serviceTimeCv: number;
  /** gRPC method path the pod serves (default FUNCTION_METHOD). */
  readonly method?: string;
  /** The queue-proxy Stat window (default 1 s). */
  readonly statWindowMs?: number;
}

export interface LinkSpec {
  readonly from: string;
  readonly to: string;
  readonly delay: LinkDelay;
}

export type NodeCommand =
  | {
      type: 'init';
      node: string;
      ip: string;
      nodeIps: Record<string, string>;
      links: LinkSpec[];
      pods: PodSpec[];
      seed: number;
      /** In its own network namespace (`demo --netns`): `ip` is a real interface address, no source patch. */
      isolated?: boolean;
      probe?: { controlPlane: string; intervalMs: number; timeoutMs: number; queueProxyIntervalMs?: number; queueProxyWindowMs?: number };
      /** Run Knative's activator for the function on this node (`demo --activator`). */
      activator?: { containerConcurrency: number; holdTimeoutMs: number };
    }
  | { type: 'links'; links: LinkSpec[] }
  | { type: 'activator-targets'; dests: string[] }
  | { type: 'pods'; action: 'stop' | 'start'; service?: string }
  /** A pod the emulated scheduler placed here (closed-loop demo); replies `pod-added`. */
  | { type: 'add-pod'; pod: PodSpec }
  /** Delete a pod (scale-down); replies `pod-removed`. */
  | { type: 'remove-pod'; name: string }
  | { type: 'stats' }
  | { type: 'shutdown' };

export type NodeMessage =
  | {
      type: 'up';
      node: string;
      pods: Array<{ name: string; service: string; address: string; port: number; autometricPort: number }>;
      probeAddress?: string;
      activator?: { address: string; port: number };
    }
  | { type: 'activator-targets-done' }
  | { type: 'pod-added'; pod: { name: string; service: string; address: string; port: number; autometricPort: number } }
  | { type: 'pod-removed'; name: string; found: boolean }
  | { type: 'pods-done'; action: 'stop' | 'start' }
  | {
      type: 'stats';
      served: Record<string, number>;
      busy: number;
      /** `concurrency`: requests the activator holds or proxies now (what it reports to the autoscaler). */
      activator?: { held: number; proxied: number; concurrency: number };
    }
  | { type: 'fatal'; error: string };

function send(m: NodeMessage): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const delays = new MutableDelayMatrix();
  const pods: Array<{ pod: FunctionPod; proxy: DelayProxy; service: string; close: () => Promise<void> }> = [];
  let addPod: ((spec: PodSpec) => Promise<NodeMessage & { type: 'pod-added' }>) | undefined;
  const closers: Array<() => Promise<unknown> | void> = [];
  let activator: EmulatedActivator | undefined;
  const applyLinks = (links: LinkSpec[]) => {
    for (const l of links) delays.set(l.from, l.to, l.delay, false);
  };

  process.on('message', (cmd: NodeCommand) => {
    void (async () => {
      switch (cmd.type) {
        case 'init': {
          if (!cmd.isolated) bindLoopbackConnectionsTo(cmd.ip);
          applyLinks(cmd.links);
          const byIp = new Map(Object.entries(cmd.nodeIps).map(([n, ip]) => [ip, n] as const));
          const rng = mulberry32(cmd.seed);
          const proxyFor = (targetPort: number) =>
            new DelayProxy({
              listenHost: cmd.ip,
              listenPort: 0,
              targetHost: cmd.ip,
              targetPort,
              node: cmd.node,
              nodeOfAddress: (ip) => byIp.get(ip),
              delays,
              rng,
            });
          const up: NodeMessage & { type: 'up' } = { type: 'up', node: cmd.node, pods: [] };
          const scrapeTargets: ScrapeTarget[] = [];
          addPod = async (spec: PodSpec) => {
            const pod = new FunctionPod({
              name: spec.name,
              node: cmd.node,
              host: cmd.ip,
              port: 0,
              protocol: 'grpc',
              concurrency: spec.concurrency,
              serviceTimeMs: spec.serviceTimeMs,
              serviceTimeCv: spec.serviceTimeCv,
              ...(spec.method ? { method: spec.method } : {}),
              ...(spec.statWindowMs ? { statWindowMs: spec.statWindowMs } : {}),
              rng,
              service: spec.service,
            });
            const port = await pod.start();
            // The pod's queue-proxy metric ports (Knative's 9090/9091; here any free pair per pod), local to the node's agent.
            const metrics = new QueueProxyMetricsServer({
              stat: () => pod.meter.stat(performance.timeOrigin + performance.now()),
              text: () => pod.meter.text(),
            });
            await metrics.listen(cmd.ip);
            const target: ScrapeTarget = {
              service: spec.service,
              pod: spec.name,
              host: cmd.ip,
              autometricPort: metrics.autometricPort,
              usermetricPort: metrics.usermetricPort,
            };
            // The agent's loop holds this array: a pod added later is scraped from its next round.
            scrapeTargets.push(target);
            const proxy = proxyFor(port);
            const publicPort = await proxy.listen();
            const close = async () => {
              scrapeTargets.splice(scrapeTargets.indexOf(target), 1);
              await metrics.close();
              await proxy.close();
              await pod.stop();
            };
            pods.push({ pod, proxy, service: spec.service, close });
            const info = {
              name: spec.name,
              service: spec.service,
              address: cmd.ip,
              port: publicPort,
              autometricPort: metrics.autometricPort,
            };
            return { type: 'pod-added', pod: info };
          };
          for (const spec of cmd.pods) up.pods.push((await addPod(spec)).pod);
          if (cmd.activator) {
            activator = new EmulatedActivator({ host: cmd.ip, rng, ...cmd.activator });
            // Gateways reach it through this node's delay proxy, like a pod.
            const proxy = proxyFor(await activator.start());
            const publicPort = await proxy.listen();
            const a = activator;
            closers.push(
              () => proxy.close(),
              () => a.stop(),
            );
            up.activator = { address: cmd.ip, port: publicPort };
          }
          if (cmd.probe) {
            const { runProbe } = await import('../probe/run.js');
            // Peers reach the agent through this node's delay proxy, so the RTT they measure is the emulated one.
            const agentPort = await freePort(cmd.ip);
            const proxy = proxyFor(agentPort);
            const publicPort = await proxy.listen();
            closers.push(() => proxy.close());
            const agent = await runProbe(
              {
                node: cmd.node,
                controlPlane: cmd.probe.controlPlane,
                listen: { host: cmd.ip, port: agentPort },
                advertise: `${cmd.ip}:${publicPort}`,
                intervalMs: cmd.probe.intervalMs,
                timeoutMs: cmd.probe.timeoutMs,
                maxPeers: 32,
                nearRttMs: 10,
                ...(cmd.probe.queueProxyIntervalMs
                  ? {
                      queueProxy: {
                        intervalMs: cmd.probe.queueProxyIntervalMs,
                        timeoutMs: Math.min(1000, cmd.probe.queueProxyIntervalMs),
                        concurrency: 16,
                        ...(cmd.probe.queueProxyWindowMs ? { windowMs: cmd.probe.queueProxyWindowMs } : {}),
                        targets: scrapeTargets,
                      },
                    }
                  : {}),
              },
              silentLogger(),
              new Registry(),
            );
            closers.push(() => agent.close());
            up.probeAddress = `${cmd.ip}:${publicPort}`;
          }
          return send(up);
        }
        case 'links':
          applyLinks(cmd.links);
          return;
        case 'activator-targets':
          activator?.setTargets(cmd.dests);
          return send({ type: 'activator-targets-done' });
        case 'pods': {
          for (const p of pods) {
            if (cmd.service && p.service !== cmd.service) continue;
            if (cmd.action === 'stop') await p.pod.stop();
            else if (!p.pod.running) await p.pod.start();
          }
          return send({ type: 'pods-done', action: cmd.action });
        }
        case 'add-pod':
          if (!addPod) return send({ type: 'fatal', error: 'add-pod before init' });
          return send(await addPod(cmd.pod));
        case 'remove-pod': {
          const i = pods.findIndex((p) => p.pod.opts.name === cmd.name);
          const found = i >= 0 ? pods.splice(i, 1)[0] : undefined;
          await found?.close();
          return send({ type: 'pod-removed', name: cmd.name, found: found !== undefined });
        }
        case 'stats':
          return send({
            type: 'stats',
            served: Object.fromEntries(pods.map((p) => [p.pod.opts.name, p.pod.served])),
            busy: pods.reduce((a, p) => a + p.pod.busy, 0) + (activator?.busy ?? 0),
            ...(activator ? { activator: { held: activator.held, proxied: activator.proxied, concurrency: activator.busy } } : {}),
          });
        case 'shutdown':
          for (const c of closers) await c();
          for (const p of pods) await p.close();
          process.exit(0);
      }
    })().catch((err: Error) => send({ type: 'fatal', error: err.stack ?? err.message }));
  });
  process.on('disconnect', () => process.exit(0));
}

void main();
