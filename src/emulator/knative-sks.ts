/**
 * Knative's rules for putting the activator in a revision's data path, as the emulator plays them
 * (pure). Sources (knative/serving):
 * - pkg/autoscaler/scaling/autoscaler.go: EBC = floor(readyPods × total − targetBurstCapacity −
 *   observed panic concurrency); 0 when target-burst-capacity is 0, −1 when it is −1 (unlimited);
 * - pkg/reconciler/autoscaling/resources/target.go: `total` = containerConcurrency, or
 *   container-concurrency-target-default (100) when it is 0;
 * - pkg/reconciler/autoscaling/kpa/kpa.go: Serve only when `want > 0 && ExcessBurstCapacity >= 0`;
 * - pkg/autoscaler/config/config.go and config/core/configmaps/autoscaler.yaml: target-burst-capacity
 *   defaults to 211 (200 before knative/serving#12774);
 * - pkg/reconciler/serverlessservice/serverlessservice.go: the public endpoints are the pods in Serve
 *   mode, the activators in Proxy mode; Proxy when no pod is ready, Serve when no activator is.
 */
import type { Endpoint } from '../model/types.js';
import { revisionDataPath, type ActivatorChoice, type DataPathKind, type SksMode } from '../model/data-path.js';

export const KNATIVE_TARGET_BURST_CAPACITY = 211;
export const KNATIVE_CONTAINER_CONCURRENCY_TARGET_DEFAULT = 100;

export interface BurstInput {
  readonly readyPods: number;
  /** The revision's containerConcurrency (0 = unlimited). */
  readonly containerConcurrency: number;
  /** −1, 0 or positive (config-autoscaler `target-burst-capacity`). */
  readonly targetBurstCapacity: number;
  /** Concurrency the autoscaler observed over the panic window. */
  readonly panicConcurrency: number;
}

export function excessBurstCapacity(x: BurstInput): number {
  if (x.targetBurstCapacity === 0) return 0;
  if (x.targetBurstCapacity < 0) return -1;
  const total = x.containerConcurrency === 0 ? KNATIVE_CONTAINER_CONCURRENCY_TARGET_DEFAULT : x.containerConcurrency;
  return Math.floor(x.readyPods * total - x.targetBurstCapacity - x.panicConcurrency);
}

/** The KPA's SKS mode: Serve only with pods wanted and non-negative excess burst capacity. */
export function kpaMode(wantPods: number, ebc: number): SksMode {
  return wantPods > 0 && ebc >= 0 ? 'Serve' : 'Proxy';
}

/** The public Service's endpoints as the SKS reconciler writes them. */
export function publicEndpoints(mode: SksMode, pods: readonly Endpoint[], activators: readonly Endpoint[]): readonly Endpoint[] {
  let effective = mode;
  if (!pods.some((p) => p.ready)) effective = 'Proxy';
  if (!activators.some((a) => a.ready)) effective = 'Serve';
  return effective === 'Serve' ? pods : activators;
}

export interface DemoRevisionState {
  /** Every pod of the revision with its readiness (the private Service's endpoints). */
  readonly pods: readonly Endpoint[];
  readonly activators: readonly Endpoint[];
  readonly containerConcurrency: number;
  readonly targetBurstCapacity: number;
  /** Concurrency the autoscaler sees; the demo decides the mode at no load (Serve is likeliest then). */
  readonly panicConcurrency: number;
}

/** The SKS mode the KPA would set and the public endpoints the SKS reconciler would write. */
export function emulatedServerlessService(x: DemoRevisionState): { mode: SksMode; ebc: number; publicEndpoints: readonly Endpoint[] } {
  const readyPods = x.pods.filter((p) => p.ready).length;
  const ebc = excessBurstCapacity({
    readyPods,
    containerConcurrency: x.containerConcurrency,
    targetBurstCapacity: x.targetBurstCapacity,
    panicConcurrency: x.panicConcurrency,
  });
  const mode = kpaMode(readyPods, ebc);
  return { mode, ebc, publicEndpoints: publicEndpoints(mode, x.pods, x.activators) };
}

/**
 * The emulated revision's endpoints as the gateways get them: Knative's KPA and SKS reconciler (the
 * public endpoints) followed by what Proxima's Kubernetes source makes of them (revisionDataPath).
 */
export function emulatedTopologyEndpoints(
  pods: readonly Endpoint[],
  activator: { readonly address: string; readonly port: number; readonly node: string },
  containerConcurrency: number,
  targetBurstCapacity: number,
  choice: ActivatorChoice,
): {
  endpoints: readonly Endpoint[];
  activators: readonly Endpoint[];
  state: { mode: SksMode; ebc: number; path: DataPathKind; choice: ActivatorChoice };
} {
  const activators: Endpoint[] = [{ ...activator, ready: true, capacity: containerConcurrency || 10 }];
  const sks = emulatedServerlessService({ pods, activators, containerConcurrency, targetBurstCapacity, panicConcurrency: 0 });
  const path = revisionDataPath({ mode: sks.mode, choice, publicEndpoints: sks.publicEndpoints, pods, activatorService: activators });
  return { endpoints: path.endpoints, activators: path.activators, state: { mode: sks.mode, ebc: sks.ebc, path: path.path, choice } };
}
