/**
 * The queueing model shared by `proxima` (with estimated inputs) and `oracle` (with true ones), and
 * matched to the simulator: a node runs `pods` pods, each serving up to `slotsPerPod` requests at
 * once with a FIFO queue in front, arrivals split evenly over the pods. Each pod is approximated as
 * M/G/c with the Allen–Cunneen correction: Wq = ErlangC(c, a) / (c·μ − λ) · (1 + cv²) / 2.
 */

export interface NodeQueueModel {
  readonly pods: number;
  readonly slotsPerPod: number;
  /** Mean pure service time of one request (no queueing), ms. */
  readonly serviceTimeMs: number;
  /** Squared coefficient of variation of the service time (1 = exponential). */
  readonly serviceCv2: number;
}

/** Erlang C: probability that an arrival waits in an M/M/c queue with offered load `a` erlangs. */
export function erlangC(servers: number, offeredErlangs: number): number {
  if (offeredErlangs <= 0) return 0;
  if (offeredErlangs >= servers) return 1;
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (offeredErlangs * b) / (k + offeredErlangs * b);
  return (servers * b) / (servers - offeredErlangs * (1 - b));
}

/** Requests/s the node completes at 100 % utilisation. */
export function saturationRps(m: NodeQueueModel): number {
  if (!(m.serviceTimeMs > 0)) return Infinity;
  return (m.pods * m.slotsPerPod * 1000) / m.serviceTimeMs;
}

/** Mean queueing delay in ms at arrival rate `rps` (Infinity at or past saturation). */
export function meanWaitMs(m: NodeQueueModel, rps: number): number {
  if (rps <= 0 || m.pods <= 0) return 0;
  const sat = saturationRps(m);
  if (rps >= sat) return Infinity;
  const perPodPerMs = rps / m.pods / 1000;
  const c = m.slotsPerPod;
  const a = perPodPerMs * m.serviceTimeMs;
  const pWait = erlangC(c, a);
  return ((pWait / (c / m.serviceTimeMs - perPodPerMs)) * (1 + m.serviceCv2)) / 2;
}

/** Mean time a request spends at the node (service + queueing), ms. */
export function meanSojournMs(m: NodeQueueModel, rps: number): number {
  return m.serviceTimeMs + meanWaitMs(m, rps);
}

/**
 * Invert the model: the pure service time that explains an observed mean sojourn time (service +
 * queueing, what Knative's queue-proxy latency reports) at arrival rate `rps`. Observed latency
 * includes queueing, so using it as the service time would count queueing twice and make capacity
 * look smaller the harder the node is driven (a feedback that oscillates).
 */
export function serviceTimeFromObservedMs(m: Omit<NodeQueueModel, 'serviceTimeMs'>, observedMs: number, rps: number): number {
  if (!(observedMs > 0) || !(rps > 0) || m.pods <= 0) return observedMs;
  // sojourn(S) is increasing in S; S cannot exceed the value that saturates the node at this rate.
  let lo = 0;
  let hi = Math.min(observedMs, (m.pods * m.slotsPerPod * 1000) / rps);
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (meanSojournMs({ ...m, serviceTimeMs: mid }, rps) < observedMs) lo = mid;
    else hi = mid;
  }
  return lo;
}
