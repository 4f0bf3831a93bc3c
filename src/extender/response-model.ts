import { meanSojournMs, saturationRps, type NodeQueueModel } from '../policy/queueing.js';

/**
 * Expected mean response time (RTT + service + queueing) of one service's current demand, for the
 * pods it has now and with one hypothetical extra pod on a candidate node. Routing is modelled like
 * the proxima policy: each gateway's demand (largest first) fills the nodes nearest to it in
 * latency order up to a target utilisation; what no node can take is spread over all reachable
 * nodes by capacity (overloading them). Queueing per node uses the shared M/G/c model of
 * src/policy/queueing.ts. Pure: every input is a value or a function of its arguments.
 */

export interface DemandAt {
  readonly gateway: string;
  readonly rps: number;
}

export interface ResponseModelInput {
  /** Demand per gateway, any order; entries with rps <= 0 are ignored. */
  readonly demand: readonly DemandAt[];
  /** Pods per node counted as serving (ready plus pending). */
  readonly pods: ReadonlyMap<string, number>;
  /** Concurrency slots of one pod on `node` (Knative containerConcurrency). */
  slotsPerPod(node: string): number;
  /** Mean pure service time of one request on `node`, ms. */
  serviceTimeMs(node: string): number;
  rttMs(from: string, to: string): number;
  reachable(from: string, to: string): boolean;
  /** RTT from each `from` to each `to`, -1 = unreachable (batch form of the two above). */
  rows(froms: readonly string[], tos: readonly string[]): Float64Array[];
  /** Utilisation the greedy fill stops at before spilling to the next node (0..1). */
  readonly targetUtilization: number;
  /** Squared coefficient of variation of the service time (1 = exponential). */
  readonly serviceCv2: number;
}

/** Counted for demand that no pod can serve (no pods, or none reachable): scale-from-zero wait. */
export const UNSERVED_MS = 10_000;
/** Past this utilisation the M/G/c wait explodes; beyond it the model grows linearly instead. */
const MAX_MODEL_UTILIZATION = 0.98;

interface GatewayPlan {
  readonly gateway: string;
  readonly rps: number;
  /** Indices into the pod-node arrays, sorted by rtt + service time (ties by name). */
  readonly order: Int32Array;
  readonly rtt: Float64Array;
  readonly cost: Float64Array;
}

export class ResponseModel {
  private readonly nodes: string[];
  private readonly nodeIndex: Map<string, number>;
  private readonly baseModels: NodeQueueModel[];
  private readonly baseSat: Float64Array;
  private readonly plans: GatewayPlan[];
  private readonly totalRps: number;
  // Scratch space reused by every evaluation (size nodes + 1 for a candidate without pods).
  private readonly sat: Float64Array;
  private readonly loads: Float64Array;
  private readonly models: NodeQueueModel[];
  /** Per plan, the cost of the farthest node its demand reached in the baseline. */
  private readonly frontier: Float64Array;
  private baselineOverflow = false;
  private readonly baselineMs: number;

  constructor(private readonly input: ResponseModelInput) {
    this.nodes = [...input.pods]
      .filter(([, n]) => n > 0)
      .map(([node]) => node)
      .sort();
    this.nodeIndex = new Map(this.nodes.map((n, i) => [n, i] as const));
    const cv2 = input.serviceCv2;
    this.baseModels = this.nodes.map((n) => ({
      pods: input.pods.get(n)!,
      slotsPerPod: Math.max(1, input.slotsPerPod(n)),
      serviceTimeMs: input.serviceTimeMs(n),
      serviceCv2: cv2,
    }));
    this.baseSat = Float64Array.from(this.baseModels, saturationRps);
    this.sat = new Float64Array(this.nodes.length + 1);
    this.loads = new Float64Array(this.nodes.length + 1);
    this.models = [...this.baseModels, this.baseModels[0]!];
    const demand = input.demand.filter((d) => d.rps > 0).sort((a, b) => b.rps - a.rps || (a.gateway < b.gateway ? -1 : 1));
    this.totalRps = demand.reduce((s, d) => s + d.rps, 0);
    this.plans = demand.map((d) => {
      const idx = this.nodes.map((_, i) => i).filter((i) => input.reachable(d.gateway, this.nodes[i]!));
      const rtt = new Float64Array(this.nodes.length);
      const cost = new Float64Array(this.nodes.length);
      for (const i of idx) {
        rtt[i] = input.rttMs(d.gateway, this.nodes[i]!);
        cost[i] = rtt[i]! + this.baseModels[i]!.serviceTimeMs;
      }
      idx.sort((a, b) => cost[a]! - cost[b]! || a - b);
      return { gateway: d.gateway, rps: d.rps, order: Int32Array.from(idx), rtt, cost };
    });
    this.frontier = new Float64Array(this.plans.length);
    this.baselineMs = this.evaluate(undefined, true);
  }

  get demandRps(): number {
    return this.totalRps;
  }

  /** Mean response time of the demand with the current pods, ms (0 when there is no demand). */
  currentMs(): number {
    return this.baselineMs;
  }

  /** Mean response time with one more pod on `node`, ms. */
  withExtraPodMs(node: string): number {
    return this.withExtraPodMsAll([node])[0]!;
  }

  /** withExtraPodMs for many candidates, with one batch of RTT lookups. */
  withExtraPodMsAll(candidates: readonly string[]): number[] {
    if (this.totalRps <= 0) return candidates.map(() => 0);
    const rows = this.input.rows(
      this.plans.map((p) => p.gateway),
      candidates,
    );
    return candidates.map((node, j) => {
      if (!this.nodeIndex.has(node) && !this.baselineOverflow) {
        // A new node changes the outcome only if some gateway would reach it before its baseline
        // frontier; otherwise every gateway fills exactly the same nodes as before.
        const serviceMs = this.input.serviceTimeMs(node);
        let matters = false;
        for (let k = 0; k < this.plans.length && !matters; k++) {
          const rtt = rows[k]![j]!;
          matters = rtt >= 0 && rtt + serviceMs < this.frontier[k]!;
        }
        if (!matters) return this.baselineMs;
      }
      return this.evaluate(node, false, rows, j);
    });
  }

  private evaluate(extra: string | undefined, recordFrontier: boolean, rows?: readonly Float64Array[], column = 0): number {
    if (this.totalRps <= 0) return 0;
    const n = this.nodes.length;
    const existingIdx = extra === undefined ? -1 : (this.nodeIndex.get(extra) ?? -1);
    const extraIsNew = extra !== undefined && existingIdx < 0;
    const extraIdx = extraIsNew ? n : existingIdx;
    const size = extraIsNew ? n + 1 : n;
    const sat = this.sat;
    const models = this.models;
    sat.set(this.baseSat);
    for (let i = 0; i < n; i++) models[i] = this.baseModels[i]!;
    if (extraIsNew) {
      models[n] = {
        pods: 1,
        slotsPerPod: Math.max(1, this.input.slotsPerPod(extra)),
        serviceTimeMs: this.input.serviceTimeMs(extra),
        serviceCv2: this.input.serviceCv2,
      };
      sat[n] = saturationRps(models[n]!);
    } else if (extraIdx >= 0) {
      const b = this.baseModels[extraIdx]!;
      models[extraIdx] = { ...b, pods: b.pods + 1 };
      sat[extraIdx] = saturationRps(models[extraIdx]!);
    }
    const loads = this.loads;
    loads.fill(0);
    let rttSum = 0;
    let unserved = 0;
    const target = this.input.targetUtilization;
    for (let pi = 0; pi < this.plans.length; pi++) {
      const p = this.plans[pi]!;
      let extraRtt = 0;
      let extraCost = Infinity;
      if (extraIsNew) {
        const r = rows ? rows[pi]![column]! : this.input.reachable(p.gateway, extra) ? this.input.rttMs(p.gateway, extra) : -1;
        if (r >= 0) {
          extraRtt = r;
          extraCost = r + models[n]!.serviceTimeMs;
        }
      }
      let remaining = p.rps;
      let extraPending = Number.isFinite(extraCost);
      let frontier = 0;
      for (let k = 0; k <= p.order.length && remaining > 0; k++) {
        let i: number;
        let rtt: number;
        let cost: number;
        if (k < p.order.length && !(extraPending && extraCost < p.cost[p.order[k]!]!)) {
          i = p.order[k]!;
          rtt = p.rtt[i]!;
          cost = p.cost[i]!;
        } else if (extraPending) {
          extraPending = false;
          i = n;
          rtt = extraRtt;
          cost = extraCost;
          k--; // the regular node at k still has to be visited
        } else break;
        const room = target * sat[i]! - loads[i]!;
        if (room <= 0) continue;
        const take = remaining < room ? remaining : room;
        loads[i] = loads[i]! + take;
        rttSum += take * rtt;
        remaining -= take;
        frontier = cost;
      }
      if (recordFrontier) this.frontier[pi] = remaining > 0 ? Infinity : frontier;
      if (remaining > 0) {
        if (recordFrontier) this.baselineOverflow = true;
        // Nobody has room: overload every reachable node in proportion to its capacity.
        let satSum = 0;
        for (let k = 0; k < p.order.length; k++) satSum += sat[p.order[k]!]!;
        if (Number.isFinite(extraCost)) satSum += sat[n]!;
        if (satSum > 0 && Number.isFinite(satSum)) {
          for (let k = 0; k < p.order.length; k++) {
            const i = p.order[k]!;
            const share = (remaining * sat[i]!) / satSum;
            loads[i] = loads[i]! + share;
            rttSum += share * p.rtt[i]!;
          }
          if (Number.isFinite(extraCost)) {
            const share = (remaining * sat[n]!) / satSum;
            loads[n] = loads[n]! + share;
            rttSum += share * extraRtt;
          }
        } else unserved += remaining;
      }
    }
    let nodeSum = 0;
    for (let i = 0; i < size; i++) {
      const l = loads[i]!;
      if (l > 0) nodeSum += l * sojournMs(models[i]!, l, sat[i]!);
    }
    return (rttSum + nodeSum + unserved * UNSERVED_MS) / this.totalRps;
  }
}

/** Sojourn time with a finite, steep continuation past MAX_MODEL_UTILIZATION (overload). */
function sojournMs(m: NodeQueueModel, rps: number, sat: number): number {
  if (!Number.isFinite(sat)) return m.serviceTimeMs;
  const rho = rps / sat;
  if (rho < MAX_MODEL_UTILIZATION) return meanSojournMs(m, rps);
  const atCap = meanSojournMs(m, MAX_MODEL_UTILIZATION * sat);
  return atCap * (1 + 50 * (rho - MAX_MODEL_UTILIZATION));
}
