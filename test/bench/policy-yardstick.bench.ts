import { faastScenario } from '../../src/sim/scenario.js';
import { runYardstick, type YardstickLevel } from '../../src/sim/yardstick.js';
import type { Bench, BenchContext } from './types.js';

/**
 * The independent yardstick (src/sim/yardstick.ts): per load level, the best split found by
 * evaluating a grid of splits in the discrete-event simulator itself, and proxima's distance from
 * it, with the model-based oracle as a second line. Deterministic for the seed (1).
 */
const bench: Bench = {
  name: 'policy-yardstick',
  description: "proxima's distance from the empirical optimum (grid search of the split space, each candidate run in the simulator)",
  async run(ctx: BenchContext) {
    const scenarios = ctx.quick ? [faastScenario(3, 50)] : [faastScenario(3, 50), faastScenario(3, 100)];
    const users = ctx.quick ? [5, 30, 50] : [5, 15, 25, 35, 45, 50];
    const measureMs = ctx.quick ? 15_000 : 30_000;
    const results: Array<{ scenario: string; levels: YardstickLevel[] }> = [];
    for (const scenario of scenarios) {
      results.push({
        scenario: scenario.name,
        levels: runYardstick({ scenario, users, seed: 1, warmupMs: 20_000, measureMs, progress: ctx.progress }),
      });
    }
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
    const table: Array<Array<string | number>> = [
      ['scenario', 'users', 'optimum mean ms (source)', 'proxima mean ms', 'proxima vs optimum', 'oracle mean ms', 'candidates'],
    ];
    for (const r of results)
      for (const l of r.levels)
        table.push([
          r.scenario,
          l.users,
          `${l.bestMeanMs.toFixed(1)} (${l.bestSource})`,
          l.proximaMeanMs.toFixed(1),
          pct(l.proximaDistance),
          l.oracleMeanMs.toFixed(1),
          l.candidatesEvaluated,
        ]);
    const worst = Math.max(...results.flatMap((r) => r.levels.map((l) => l.proximaDistance)));
    return {
      results: { seed: 1, warmupMs: 20_000, measureMs, scenarios: results },
      table,
      verdicts: [`proxima's largest distance from the empirical optimum: ${pct(worst)} (seed 1, one run per candidate)`],
    };
  },
};

export default bench;
