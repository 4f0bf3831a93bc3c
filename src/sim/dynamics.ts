import type { GatewayAssignment } from '../policy/types.js';

/** One sample of the priority-0 shares (%) per gateway per node (src/emulator/stats.ts ShareSample). */
export interface ShareSample {
  readonly tMs: number;
  readonly shares: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * How a policy behaved over a level, in the same terms live and in the simulator (pure), so that a
 * live ÷ predicted ratio off its band can be traced to where the two runs differ: the weights each
 * gateway was given over time (their time mean, spread and oscillation period) and where the requests
 * went and how long they spent in the pods there (queue wait included: FaaSt's P_j is that time).
 */

export interface LevelDynamics {
  /** Assignment samples the figures come from (one per recompute in the simulator, per second live). */
  readonly samples: number;
  /** Per gateway, per node: time mean of the priority-0 share over the samples, %. */
  readonly meanSharePct: Record<string, Record<string, number>>;
  /** Per gateway, per node: standard deviation of that share over time, percentage points. */
  readonly shareSdPct: Record<string, Record<string, number>>;
  /** Per gateway: period (s) of its own node's share, from the first autocorrelation peak; NaN if it does not oscillate. */
  readonly localPeriodS: Record<string, number>;
  /** Per node: share of the measured requests it served, %. */
  readonly servedPct: Record<string, number>;
  /** Per node: mean time in the pod (arrival at the pod to response, queue wait included) of those requests, ms. */
  readonly podMeanMs: Record<string, number>;
  /** Per node: mean time of those requests in the user container alone (the pods' real service time), ms. */
  readonly appMeanMs?: Record<string, number>;
  /**
   * Per gateway, per node: share of the gateway's measured requests that node served, % — what the
   * data plane did with the weights (beside `meanSharePct`, what the control plane assigned).
   */
  readonly routedPct?: Record<string, Record<string, number>>;
}

/** Measured requests per entry gateway per serving node. */
export type Routed = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Per node: measured requests served and their summed time in the pod. */
export type ServedByNode = Readonly<Record<string, { readonly requests: number; readonly inPodSumMs: number; readonly appSumMs?: number }>>;

const round1 = (x: number) => Math.round(x * 10) / 10;

/** A simulator assignment table as the shares (%) /debug/assignments shows for priority 0. */
export function sharesOf(table: ReadonlyMap<string, GatewayAssignment>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [gateway, a] of table) {
    const p0 = a.localities.filter((l) => l.priority === 0);
    const total = p0.reduce((s, l) => s + l.weight, 0);
    out[gateway] = Object.fromEntries(p0.map((l) => [l.node, total > 0 ? (100 * l.weight) / total : 0]));
  }
  return out;
}

/**
 * Period (in samples) of a series: the lag of the first autocorrelation maximum after it first turns
 * negative; NaN when the series is flat or has no such peak within half its length.
 */
export function oscillationPeriod(series: readonly number[]): number {
  const n = series.length;
  if (n < 6) return NaN;
  const mean = series.reduce((a, b) => a + b, 0) / n;
  const d = series.map((x) => x - mean);
  const var0 = d.reduce((a, x) => a + x * x, 0);
  if (var0 <= 1e-9) return NaN;
  const acf = (lag: number) => {
    let s = 0;
    for (let i = 0; i + lag < n; i++) s += d[i]! * d[i + lag]!;
    return s / var0;
  };
  const maxLag = Math.floor(n / 2);
  let lag = 1;
  while (lag <= maxLag && acf(lag) >= 0) lag++;
  if (lag > maxLag) return NaN;
  let best = NaN;
  let bestValue = 0;
  for (; lag <= maxLag; lag++) {
    const v = acf(lag);
    if (v > bestValue) {
      bestValue = v;
      best = lag;
    } else if (Number.isFinite(best) && v < bestValue) break;
  }
  return best;
}

/** A level's dynamics from its assignment samples (evenly spaced, `sampleMs` apart) and where its requests went. */
export function levelDynamics(samples: readonly ShareSample[], sampleMs: number, served: ServedByNode, routed?: Routed): LevelDynamics {
  const gateways = [...new Set(samples.flatMap((x) => Object.keys(x.shares)))].sort();
  const meanSharePct: Record<string, Record<string, number>> = {};
  const shareSdPct: Record<string, Record<string, number>> = {};
  const localPeriodS: Record<string, number> = {};
  for (const g of gateways) {
    const nodes = [...new Set(samples.flatMap((x) => Object.keys(x.shares[g] ?? {})))].sort();
    meanSharePct[g] = {};
    shareSdPct[g] = {};
    for (const node of nodes) {
      const v = samples.map((x) => x.shares[g]?.[node] ?? 0);
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      meanSharePct[g][node] = round1(m);
      shareSdPct[g][node] = round1(Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / v.length));
    }
    const period = oscillationPeriod(samples.map((x) => x.shares[g]?.[g] ?? 0));
    localPeriodS[g] = Number.isFinite(period) ? round1((period * sampleMs) / 1000) : NaN;
  }
  const total = Object.values(served).reduce((a, s) => a + s.requests, 0);
  const nodes = Object.keys(served).sort();
  return {
    samples: samples.length,
    meanSharePct,
    shareSdPct,
    localPeriodS,
    servedPct: Object.fromEntries(nodes.map((n) => [n, total > 0 ? round1((100 * served[n]!.requests) / total) : 0])),
    podMeanMs: Object.fromEntries(
      nodes.filter((n) => served[n]!.requests > 0).map((n) => [n, round1(served[n]!.inPodSumMs / served[n]!.requests)]),
    ),
    ...(nodes.some((n) => served[n]!.appSumMs !== undefined)
      ? {
          appMeanMs: Object.fromEntries(
            nodes.filter((n) => served[n]!.requests > 0).map((n) => [n, round1((served[n]!.appSumMs ?? NaN) / served[n]!.requests)]),
          ),
        }
      : {}),
    ...(routed ? { routedPct: routedPct(routed) } : {}),
  };
}

function routedPct(routed: Routed): Record<string, Record<string, number>> {
  return Object.fromEntries(
    Object.entries(routed).map(([g, row]) => {
      const total = Object.values(row).reduce((a, b) => a + b, 0);
      return [g, Object.fromEntries(Object.entries(row).map(([n, c]) => [n, total > 0 ? round1((100 * c) / total) : 0]))];
    }),
  );
}

/** Pool several runs' dynamics (simulator replications): means of the means, periods and pod times weighted by requests. */
export function poolDynamics(
  runs: ReadonlyArray<{ readonly dynamics: LevelDynamics; readonly served: ServedByNode; readonly routed?: Routed }>,
): LevelDynamics | undefined {
  if (runs.length === 0) return undefined;
  const avg = (pick: (d: LevelDynamics) => Record<string, Record<string, number>>) => {
    const out: Record<string, Record<string, number>> = {};
    for (const { dynamics } of runs)
      for (const [g, row] of Object.entries(pick(dynamics)))
        for (const [n, v] of Object.entries(row)) (out[g] ??= {})[n] = (out[g]![n] ?? 0) + v / runs.length;
    for (const row of Object.values(out)) for (const n of Object.keys(row)) row[n] = round1(row[n]!);
    return out;
  };
  const periods: Record<string, number> = {};
  for (const g of Object.keys(runs[0]!.dynamics.localPeriodS)) {
    const v = runs.map((r) => r.dynamics.localPeriodS[g]!).filter((x) => Number.isFinite(x));
    periods[g] = v.length ? round1(v.reduce((a, b) => a + b, 0) / v.length) : NaN;
  }
  const served: Record<string, { requests: number; inPodSumMs: number; appSumMs?: number }> = {};
  for (const r of runs)
    for (const [n, s] of Object.entries(r.served)) {
      const e = (served[n] ??= { requests: 0, inPodSumMs: 0 });
      e.requests += s.requests;
      e.inPodSumMs += s.inPodSumMs;
      if (s.appSumMs !== undefined) e.appSumMs = (e.appSumMs ?? 0) + s.appSumMs;
    }
  const routed: Record<string, Record<string, number>> = {};
  for (const r of runs)
    for (const [g, row] of Object.entries(r.routed ?? {}))
      for (const [n, c] of Object.entries(row)) (routed[g] ??= {})[n] = (routed[g]![n] ?? 0) + c;
  const whole = levelDynamics([], 1000, served, Object.keys(routed).length ? routed : undefined);
  return {
    samples: runs.reduce((a, r) => a + r.dynamics.samples, 0),
    meanSharePct: avg((d) => d.meanSharePct),
    shareSdPct: avg((d) => d.shareSdPct),
    localPeriodS: periods,
    servedPct: whole.servedPct,
    podMeanMs: whole.podMeanMs,
    ...(whole.appMeanMs ? { appMeanMs: whole.appMeanMs } : {}),
    ...(whole.routedPct ? { routedPct: whole.routedPct } : {}),
  };
}

/** One line comparing a level's live dynamics with the simulator's, per entry gateway and node. */
export function dynamicsLine(live: LevelDynamics, sim: LevelDynamics, entries: readonly string[]): string {
  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : String(Math.round(x)));
  const nodes = [...new Set([...Object.keys(live.servedPct), ...Object.keys(sim.servedPct)])].sort();
  const gw = entries.map(
    (g) =>
      `${g}→${g} share ${f(live.meanSharePct[g]?.[g])}±${f(live.shareSdPct[g]?.[g])} % vs ${f(sim.meanSharePct[g]?.[g])}±${f(sim.shareSdPct[g]?.[g])} %` +
      (live.routedPct || sim.routedPct ? ` (routed ${f(live.routedPct?.[g]?.[g])} vs ${f(sim.routedPct?.[g]?.[g])} %)` : '') +
      `, period ${f(live.localPeriodS[g])} vs ${f(sim.localPeriodS[g])} s`,
  );
  const node = nodes.map(
    (n) =>
      `${n} served ${f(live.servedPct[n])} vs ${f(sim.servedPct[n])} %, pod time ${f(live.podMeanMs[n])} vs ${f(sim.podMeanMs[n])} ms` +
      (live.appMeanMs || sim.appMeanMs ? ` (service ${f(live.appMeanMs?.[n])} vs ${f(sim.appMeanMs?.[n])} ms)` : ''),
  );
  return `live vs sim: ${[...gw, ...node].join('; ')}`;
}
