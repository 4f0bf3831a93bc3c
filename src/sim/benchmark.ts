import { evenPolicy } from '../policy/even.js';
import { faastPolicy } from '../policy/faast.js';
import { nearestPolicy } from '../policy/nearest.js';
import { createOraclePolicy } from '../policy/oracle.js';
import { proximaPolicy } from '../policy/proxima.js';
import type { Policy } from '../policy/types.js';
import type { Scenario } from './scenario.js';
import { faastScenario, serviceCv2 } from './scenario.js';
import type { RunResult } from './simulator.js';
import { runSimulation } from './simulator.js';

/** The policy comparison behind `npm run bench:policy`: every policy at every load level, per scenario. */
export interface BenchmarkOptions {
  readonly seed: number;
  readonly scenarios: readonly Scenario[];
  readonly users: readonly number[];
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly progress?: (message: string) => void;
}

export type RunSummary = Omit<RunResult, 'latenciesMs'> & {
  /** Response time at quantiles 0.005, 0.01, …, 1 (for CDF plots). */
  readonly cdfMs: number[];
};

export interface LevelReport {
  readonly users: number;
  readonly offeredRps: number;
  readonly byPolicy: Record<string, RunSummary>;
}

export interface ScenarioReport {
  readonly scenario: string;
  readonly description: string;
  readonly levels: LevelReport[];
}

export interface Verdict {
  readonly scenario: string;
  readonly check: string;
  readonly pass: boolean;
  readonly detail: string;
}

export const POLICY_ORDER = ['even', 'nearest', 'faast', 'proxima', 'oracle'] as const;

export function policiesFor(s: Scenario): Policy[] {
  return [evenPolicy, nearestPolicy, faastPolicy, proximaPolicy, createOraclePolicy({ serviceCv2: serviceCv2(s) })];
}

export const FULL_OPTIONS: Omit<BenchmarkOptions, 'seed'> = {
  scenarios: [faastScenario(3, 50), faastScenario(3, 100)],
  users: [5, 10, 15, 20, 25, 30, 35, 40, 45, 50],
  warmupMs: 20_000,
  measureMs: 100_000,
};

export const QUICK_OPTIONS: Omit<BenchmarkOptions, 'seed'> = {
  scenarios: [faastScenario(3, 50)],
  users: [5, 25, 40, 50],
  // The loop's view needs ~20 s to settle (5 s LRS interval, smoothed demand, 10 s latency window).
  warmupMs: 20_000,
  measureMs: 30_000,
};

function summarise(r: RunResult): RunSummary {
  const { latenciesMs, ...rest } = r;
  const n = latenciesMs.length;
  const cdfMs: number[] = [];
  for (let i = 1; i <= 200; i++) cdfMs.push(n ? round(latenciesMs[Math.min(n - 1, Math.ceil((i / 200) * n) - 1)]!) : NaN);
  return { ...rest, cdfMs };
}

const round = (x: number) => Math.round(x * 100) / 100;

export function runBenchmark(o: BenchmarkOptions): ScenarioReport[] {
  const out: ScenarioReport[] = [];
  for (const scenario of o.scenarios) {
    const levels: LevelReport[] = [];
    for (const users of o.users) {
      const byPolicy: Record<string, RunSummary> = {};
      for (const policy of policiesFor(scenario)) {
        const started = Date.now();
        const r = runSimulation({
          scenario,
          policy,
          users,
          seed: o.seed,
          warmupMs: o.warmupMs,
          measureMs: o.measureMs,
          truth: policy.name === 'oracle',
        });
        byPolicy[policy.name] = summarise(r);
        o.progress?.(
          `${scenario.name} users=${users} ${policy.name}: ${r.requests} requests, mean ${r.meanMs.toFixed(1)} ms, p95 ${r.p95Ms.toFixed(1)} ms (${Date.now() - started} ms)`,
        );
      }
      levels.push({ users, offeredRps: users * scenario.rpsPerUser, byPolicy });
    }
    out.push({ scenario: scenario.name, description: scenario.description, levels });
  }
  return out;
}

/** The targets of issue 3 against the measured figures. */
export function verdicts(reports: readonly ScenarioReport[]): Verdict[] {
  const out: Verdict[] = [];
  for (const s of reports) {
    const v = (check: string, pass: boolean, detail: string) => out.push({ scenario: s.scenario, check, pass, detail });
    for (const l of s.levels) {
      const p = l.byPolicy['proxima']!;
      const f = l.byPolicy['faast']!;
      const o = l.byPolicy['oracle']!;
      v(
        `users=${l.users}: proxima mean no worse than faast`,
        p.meanMs <= f.meanMs,
        `mean ${p.meanMs.toFixed(1)} vs ${f.meanMs.toFixed(1)} ms`,
      );
      v(`users=${l.users}: proxima p95 no worse than faast`, p.p95Ms <= f.p95Ms, `p95 ${p.p95Ms.toFixed(1)} vs ${f.p95Ms.toFixed(1)} ms`);
      v(
        `users=${l.users}: proxima mean within 10 % of oracle`,
        p.meanMs <= o.meanMs * 1.1,
        `${p.meanMs.toFixed(1)} vs ${o.meanMs.toFixed(1)} ms (${((p.meanMs / o.meanMs - 1) * 100).toFixed(1)} %)`,
      );
      v(
        `users=${l.users}: proxima assignment changes after warm-up`,
        p.assignmentChanges <= Math.max(1, p.recomputes * 0.1),
        `${p.assignmentChanges} of ${p.recomputes} recomputes`,
      );
    }
    const low = s.levels[0];
    if (low) {
      const ratio = low.byPolicy['even']!.p95Ms / low.byPolicy['proxima']!.p95Ms;
      v(
        `users=${low.users}: proxima p95 at least 3× lower than even`,
        ratio >= 3,
        `even ${low.byPolicy['even']!.p95Ms.toFixed(1)} ms / proxima ${low.byPolicy['proxima']!.p95Ms.toFixed(1)} ms = ${ratio.toFixed(2)}×`,
      );
      const entry = low.byPolicy['proxima']!.entryShare;
      v(`users=${low.users}: proxima ≥ 99 % local at low load`, entry >= 0.99, `${(entry * 100).toFixed(2)} % served on the entry node`);
    }
  }
  return out;
}
