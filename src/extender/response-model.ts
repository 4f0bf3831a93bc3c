import { meanSojournMs, meanWaitMs, saturationRps, type NodeQueueModel } from '../policy/queueing.js';
import { MarginalHeap } from './marginal-fill.js';

/**
 * Expected mean response time (RTT + service + queueing) of one service's current demand, for the
 * pods it has now and with one hypothetical extra pod on a candidate node. Routing is modelled like
 * the proxima policy, which minimises the mean response time with no node past a target
 * utilisation: each gateway's demand (largest first) is placed in `FILL_STEPS` steps, each on the
 * node where it adds the least (RTT + the step's marginal sojourn time) among the nodes with room
 * below the target; what no node can take is spread over all reachable nodes by capacity
 * (overloading them). Filling the nearest node to the target first instead would model a pod of two
 * slots at 80 % (an 89 ms queue wait for 50 ms requests) where the policy spills to a neighbour 20
 * ms away, and rate one more pod where demand enters below one beside it. Queueing per node uses
 * the shared M/G/c model of src/policy/queueing.ts. Pure: every input is a value or a function of
 * its arguments.
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
/** Steps in which each gateway's demand is placed (more: finer splits, and each step costs a heap operation per candidate). */
const FILL_STEPS = 8;
/**
 * A step is never smaller than this share of the saturation rate of the gateway's nearest node: at
 * low load, splitting demand over equally distant nodes saves a negligible queue wait, and finer
 * steps would only multiply the work per candidate (1,000 nodes at a default RTT are all equally
 * distant).
 */
const MIN_STEP_SHARE = 0.1;

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
  /** filledMs of each node at its current load (kept in step with `loads`: half the table lookups per offer). */
  private readonly filled: Float64Array;
  /** The load and filledMs an offer computed for each node in the heap (its load once the offer is taken). */
  private readonly offeredLoad: Float64Array;
  private readonly offeredFilled: Float64Array;
  private readonly heap: MarginalHeap;
  private readonly models: NodeQueueModel[];
  /**
   * Per plan, the largest marginal cost (ms) any of its steps was placed at in the baseline: a new
   * node whose first step would cost more can take none of the plan's demand (its later steps cost
   * more still).
   */
  private readonly frontier: Float64Array;
  /** Per plan, the step size of the baseline fill. */
  private readonly baseStep: Float64Array;
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
    this.filled = new Float64Array(this.nodes.length + 1);
    this.offeredLoad = new Float64Array(this.nodes.length + 1);
    this.offeredFilled = new Float64Array(this.nodes.length + 1);
    this.heap = new MarginalHeap(this.nodes.length + 1);
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
    this.baseStep = new Float64Array(this.plans.length);
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
        // Its first step costs at least `firstStepMs` more than its RTT; the step size stays the
        // baseline's unless the new node would be the gateway's nearest (then it matters anyway).
        const alone: NodeQueueModel = {
          pods: 1,
          slotsPerPod: Math.max(1, this.input.slotsPerPod(node)),
          serviceTimeMs: this.input.serviceTimeMs(node),
          serviceCv2: this.input.serviceCv2,
        };
        const aloneSat = saturationRps(alone);
        let matters = false;
        for (let k = 0; k < this.plans.length && !matters; k++) {
          const rtt = rows[k]![j]!;
          if (!(rtt >= 0)) continue;
          const p = this.plans[k]!;
          if (p.order.length === 0 || rtt + alone.serviceTimeMs < p.cost[p.order[0]!]!) {
            matters = true;
            break;
          }
          const take = Math.min(this.baseStep[k]!, this.input.targetUtilization * aloneSat);
          matters = !(take > 0) || rtt + filledMs(alone, take, aloneSat) / take <= this.frontier[k]!;
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
    const filled = this.filled;
    filled.fill(0);
    const offeredLoad = this.offeredLoad;
    const offeredFilled = this.offeredFilled;
    // Offers from an earlier evaluation were for other models (NaN equals no load).
    offeredLoad.fill(NaN);
    const setLoad = (i: number, load: number) => {
      loads[i] = load;
      filled[i] = load === offeredLoad[i] ? offeredFilled[i]! : filledMs(models[i]!, load, sat[i]!);
    };
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
      const firstCost = p.order.length > 0 ? p.cost[p.order[0]!]! : Infinity;
      const nearest = Number.isFinite(extraCost) && extraCost < firstCost ? n : p.order.length > 0 ? p.order[0]! : n;
      const step = Math.max(p.rps / FILL_STEPS, Number.isFinite(sat[nearest]!) ? MIN_STEP_SHARE * sat[nearest]! : 0);
      let frontier = 0;
      // Nodes enter the heap in the plan's order (RTT + service time, the extra new node merged in at
      // its place) only while that order's next cost is below the top's marginal cost: a step's
      // marginal cost on a node is at least its RTT + service time.
      const heap = this.heap;
      heap.clear();
      let k = 0;
      let extraPending = Number.isFinite(extraCost);
      const offer = (i: number, rtt: number) => {
        const room = target * sat[i]! - loads[i]!;
        if (room <= 1e-12) return;
        const take = step < room ? step : room;
        const after = loads[i]! + take;
        const f = filledMs(models[i]!, after, sat[i]!);
        offeredLoad[i] = after;
        offeredFilled[i] = f;
        heap.push(i, rtt + (f - filled[i]!) / take, rtt);
      };
      while (remaining > 1e-9 * p.rps) {
        for (;;) {
          const regular = k < p.order.length ? p.cost[p.order[k]!]! : Infinity;
          if (extraPending && extraCost < regular) {
            if (!(extraCost < heap.topKey)) break;
            extraPending = false;
            offer(n, extraRtt);
          } else {
            if (!(regular < heap.topKey)) break;
            const i = p.order[k++]!;
            offer(i, p.rtt[i]!);
          }
        }
        if (heap.empty) break;
        const i = heap.topNode;
        const rtt = heap.topRtt;
        const mc = heap.topKey;
        heap.pop();
        const room = target * sat[i]! - loads[i]!;
        if (remaining > step && remaining <= room) {
          // Shortcut with the same outcome: the node's step costs only rise (the cost curve is
          // convex), so when its last step still costs less than any other node could, every
          // remaining step goes to it.
          const lastAt = loads[i]! + (Math.ceil(remaining / step - 1e-9) - 1) * step;
          const lastTake = Math.min(step, target * sat[i]! - lastAt);
          const lastMc = rtt + (filledMs(models[i]!, lastAt + lastTake, sat[i]!) - filledMs(models[i]!, lastAt, sat[i]!)) / lastTake;
          const next = Math.min(extraPending ? extraCost : Infinity, k < p.order.length ? p.cost[p.order[k]!]! : Infinity);
          if (lastMc < heap.topKey && lastMc < next) {
            setLoad(i, loads[i]! + remaining);
            rttSum += remaining * rtt;
            remaining = 0;
            if (lastMc > frontier) frontier = lastMc;
            break;
          }
        }
        const take = Math.min(remaining, step, room);
        setLoad(i, loads[i]! + take);
        rttSum += take * rtt;
        remaining -= take;
        if (mc > frontier) frontier = mc;
        offer(i, rtt);
      }
      if (remaining <= 1e-9 * p.rps) remaining = 0;
      if (recordFrontier) {
        this.frontier[pi] = remaining > 0 ? Infinity : frontier;
        this.baseStep[pi] = step;
      }
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
            setLoad(i, loads[i]! + share);
            rttSum += share * p.rtt[i]!;
          }
          if (Number.isFinite(extraCost)) {
            const share = (remaining * sat[n]!) / satSum;
            setLoad(n, loads[n]! + share);
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

/** Points of the queue-wait tables over utilisation 0..MAX_MODEL_UTILIZATION. */
const WAIT_TABLE_POINTS = 256;
const waitTables = new Map<number, Float64Array>();
const lastWait: { slots: number; table: Float64Array } = { slots: NaN, table: new Float64Array(0) };

/**
 * The M/G/c wait of a pod with `slots` slots, in units of its service time at cv² = 1, tabulated
 * over utilisation (the wait depends on nothing else: src/policy/queueing.ts). The fill compares
 * marginal costs many times per candidate; a table keeps that to two lookups.
 */
function waitTable(slots: number): Float64Array {
  // Pods of one revision share their slots: the last table answers nearly every call without a Map lookup.
  if (slots === lastWait.slots) return lastWait.table;
  let t = waitTables.get(slots);
  if (!t) {
    const unit: NodeQueueModel = { pods: 1, slotsPerPod: slots, serviceTimeMs: 1, serviceCv2: 1 };
    const sat = saturationRps(unit);
    t = Float64Array.from({ length: WAIT_TABLE_POINTS + 1 }, (_, k) =>
      meanWaitMs(unit, ((k * MAX_MODEL_UTILIZATION) / WAIT_TABLE_POINTS) * sat),
    );
    if (waitTables.size > 64) waitTables.clear();
    waitTables.set(slots, t);
  }
  lastWait.slots = slots;
  lastWait.table = t;
  return t;
}

/** Total sojourn time per second of `rps` on a node (rps × mean sojourn), ms, from the tables; 0 without load. */
function filledMs(m: NodeQueueModel, rps: number, sat: number): number {
  if (!(rps > 0)) return 0;
  const rho = rps / sat;
  if (!(rho < MAX_MODEL_UTILIZATION)) return rps * sojournMs(m, rps, sat);
  const t = waitTable(m.slotsPerPod);
  const x = (rho / MAX_MODEL_UTILIZATION) * WAIT_TABLE_POINTS;
  const k = Math.floor(x);
  const h = t[k]! + (x - k) * (t[k + 1]! - t[k]!);
  return rps * m.serviceTimeMs * (1 + (h * (1 + m.serviceCv2)) / 2);
}

/** Sojourn time with a finite, steep continuation past MAX_MODEL_UTILIZATION (overload). */
function sojournMs(m: NodeQueueModel, rps: number, sat: number): number {
  if (!Number.isFinite(sat)) return m.serviceTimeMs;
  const rho = rps / sat;
  if (rho < MAX_MODEL_UTILIZATION) return meanSojournMs(m, rps);
  const atCap = meanSojournMs(m, MAX_MODEL_UTILIZATION * sat);
  return atCap * (1 + 50 * (rho - MAX_MODEL_UTILIZATION));
}
