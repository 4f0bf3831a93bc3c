import type { EmulatedCluster } from '../cluster.js';
import type { NodeMessage, PodSpec } from '../node-host.js';
import type { NodeResources, PodRequests } from '../scheduler/default-scores.js';
import type { ExtenderConfig } from '../scheduler/extender-client.js';
import { scheduleOne, type SchedulingDecision } from '../scheduler/schedule.js';
import type { Rng } from '../../util/rng.js';

/**
 * The revision's Deployment as the emulated cluster runs it (I/O): the KPA sets the replica count;
 * each new pod is scheduled by the emulated kube-scheduler (with or without the extender), started on
 * the chosen node, and becomes a ready endpoint after `startDelayMs` (container start and readiness
 * probe). Scale-down deletes not-ready pods first, then pods on the node with the most replicas,
 * newest first (the ranking of kubernetes `pkg/controller/replicaset` getPodsToDelete, simplified);
 * the endpoint goes before the pod stops, as the EndpointSlice controller removes a terminating pod.
 */

export interface NodeCapacity {
  readonly name: string;
  readonly allocatableCpuMilli: number;
  readonly allocatableMemoryMiB: number;
  readonly maxPods: number;
  /** Requests of the node's other pods (system and unrelated workloads). */
  readonly otherCpuMilli: number;
  readonly otherMemoryMiB: number;
  readonly otherPods: number;
  /** The node's zone label (PodTopologySpread's zone constraint). */
  readonly zone?: string;
}

export interface PodRecord {
  readonly name: string;
  readonly node: string;
  /** ms on the run's clock. */
  readonly createdAtMs: number;
  readyAtMs?: number;
  deletedAtMs?: number;
  /** First queue-proxy Stat with requests (the pod served its first request). */
  firstServedAtMs?: number;
  /** Undefined for the pods the revision started with. */
  readonly decision?: SchedulingDecision;
}

export interface RevisionPodsOptions {
  readonly template: Omit<PodSpec, 'name'>;
  readonly revision: string;
  readonly requests: PodRequests;
  readonly nodes: readonly NodeCapacity[];
  readonly extender?: ExtenderConfig;
  readonly rng: Rng;
  readonly startDelayMs: number;
  /** The most pods the Deployment may have (a bound, not Knative's max-scale). */
  readonly maxPods: number;
  readonly clockMs: () => number;
  readonly progress: (m: string) => void;
}

export class RevisionPods {
  readonly records: PodRecord[] = [];
  private serial = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly cluster: EmulatedCluster,
    private readonly opts: RevisionPodsOptions,
  ) {
    for (const p of cluster.pods) this.records.push({ name: p.name, node: p.node, createdAtMs: 0, readyAtMs: 0 });
  }

  private live(): PodRecord[] {
    return this.records.filter((r) => r.deletedAtMs === undefined);
  }

  /** Pods created and not deleted (the Deployment's replicas). */
  get count(): number {
    return this.live().length;
  }

  get readyCount(): number {
    return this.live().filter((r) => r.readyAtMs !== undefined).length;
  }

  /** Set the replica count; calls are serialised, each sees what the previous one did. */
  scaleTo(want: number): Promise<void> {
    const target = Math.max(0, Math.min(this.opts.maxPods, want));
    this.queue = this.queue
      .then(() => this.apply(target))
      .catch((err: Error) => this.opts.progress(`scale to ${target} failed: ${err.message}`));
    return this.queue;
  }

  /** Wait for pending scale operations; cancel start-up timers. */
  async close(): Promise<void> {
    await this.queue;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async apply(target: number): Promise<void> {
    while (this.count < target) if (!(await this.createOne())) return;
    while (this.count > target) await this.deleteOne();
  }

  private nodeResources(): NodeResources[] {
    const live = this.live();
    return this.opts.nodes.map((n) => {
      const mine = live.filter((r) => r.node === n.name).length;
      return {
        name: n.name,
        allocatableCpuMilli: n.allocatableCpuMilli,
        allocatableMemoryMiB: n.allocatableMemoryMiB,
        maxPods: n.maxPods,
        requestedCpuMilli: n.otherCpuMilli + mine * this.opts.requests.cpuMilli,
        requestedMemoryMiB: n.otherMemoryMiB + mine * this.opts.requests.memoryMiB,
        pods: n.otherPods + mine,
        revisionPods: mine,
        ...(n.zone !== undefined ? { zone: n.zone } : {}),
      };
    });
  }

  private async createOne(): Promise<boolean> {
    const name = `${this.opts.revision}-deployment-${++this.serial}`;
    const [namespace, service] = this.opts.template.service.split('/') as [string, string];
    const decision = await scheduleOne({
      pod: {
        metadata: {
          name,
          namespace,
          uid: `${name}-uid`,
          labels: { 'serving.knative.dev/revision': this.opts.revision, 'serving.knative.dev/service': service },
        },
      },
      requests: this.opts.requests,
      nodes: this.nodeResources(),
      ...(this.opts.extender ? { extender: this.opts.extender } : {}),
      rng: this.opts.rng,
    });
    if (!decision.node) {
      this.opts.progress(
        `pod ${name} unschedulable: ${JSON.stringify(decision.failed)}${decision.extenderError ? ` (${decision.extenderError})` : ''}`,
      );
      return false;
    }
    const node = decision.node;
    const record: PodRecord = { name, node, createdAtMs: this.opts.clockMs(), decision };
    this.records.push(record);
    const added = await this.cluster.askNode(
      node,
      { type: 'add-pod', pod: { ...this.opts.template, name } },
      (m: NodeMessage) => (m.type === 'pod-added' && m.pod.name === name ? m.pod : undefined),
      `add ${name} on ${node}`,
    );
    this.cluster.notReadyPods.add(name);
    this.cluster.pods.push({
      node,
      name,
      address: added.address,
      port: added.port,
      capacity: this.opts.template.concurrency,
      autometricPort: added.autometricPort,
    });
    this.cluster.writeTopology();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (record.deletedAtMs !== undefined) return;
      record.readyAtMs = this.opts.clockMs();
      this.cluster.notReadyPods.delete(name);
      this.cluster.writeTopology();
      void this.cluster.updateActivatorTargets().catch(() => undefined);
    }, this.opts.startDelayMs);
    this.timers.add(timer);
    return true;
  }

  private async deleteOne(): Promise<void> {
    const victim = podToDelete(this.live())!;
    victim.deletedAtMs = this.opts.clockMs();
    this.cluster.pods = this.cluster.pods.filter((p) => p.name !== victim.name);
    this.cluster.notReadyPods.delete(victim.name);
    this.cluster.writeTopology();
    await this.cluster.updateActivatorTargets();
    await this.cluster.askNode(
      victim.node,
      { type: 'remove-pod', name: victim.name },
      (m: NodeMessage) => (m.type === 'pod-removed' && m.name === victim.name ? true : undefined),
      `remove ${victim.name}`,
    );
  }
}

/**
 * The pod a scale-down removes first: not ready before ready, then the node with the most replicas,
 * then the newest (kubernetes `pkg/controller/replicaset` getPodsToDelete's ranking, simplified).
 */
export function podToDelete<P extends Pick<PodRecord, 'node' | 'createdAtMs' | 'readyAtMs'>>(live: readonly P[]): P | undefined {
  const perNode = new Map<string, number>();
  for (const r of live) perNode.set(r.node, (perNode.get(r.node) ?? 0) + 1);
  return [...live].sort(
    (a, b) =>
      Number(a.readyAtMs !== undefined) - Number(b.readyAtMs !== undefined) ||
      perNode.get(b.node)! - perNode.get(a.node)! ||
      b.createdAtMs - a.createdAtMs,
  )[0];
}
