import { meanInterval, type MeanInterval } from '../util/interval.js';
import { streamFor } from '../util/rng.js';
import type { DemoScenario } from './demo-scenario.js';
import { extprocChooser } from './extproc-chooser.js';
import { simRunFor, simScenarioFor } from './from-demo.js';
import { link } from './scenario.js';
import { runSimulation, type RunResult } from './simulator.js';

/**
 * The demo's `proxima` against `proxima+extproc` in the simulator (pure, deterministic): the same
 * arrivals, RTTs and service times per seed, routed once by the EDS weights (Envoy's locality draw)
 * and once per request by the ext_proc picker over the same assignment. No decision delay, no
 * stream-end lag, no busy cores: what the picking rule is worth on its own.
 */
export interface SetupCell {
  readonly meanMs: MeanInterval;
  readonly p95Ms: MeanInterval;
  readonly p99Ms: MeanInterval;
  readonly localShare: MeanInterval;
}

export interface ExtProcSimLevel {
  readonly users: number;
  readonly eds: SetupCell;
  readonly extproc: SetupCell;
}

const cell = (runs: readonly RunResult[]): SetupCell => ({
  meanMs: meanInterval(runs.map((r) => r.meanMs)),
  p95Ms: meanInterval(runs.map((r) => r.p95Ms)),
  p99Ms: meanInterval(runs.map((r) => r.p99Ms)),
  localShare: meanInterval(runs.map((r) => r.entryShare)),
});

/**
 * Each level from a fresh loop (warm-up, then measure), `scenarioFor(seed)` per seed. `overheadMs`:
 * the request path's own cost (the demo calibrates it), added to every response, so the picker's
 * slots are also held that much longer than the pod holds the request.
 */
export function compareExtProcInSim(
  scenarioFor: (seed: number) => DemoScenario,
  users: readonly number[],
  seeds: readonly number[],
  overheadMs = 0,
  /** Decisions that come too late and whether the picker counts them (see ExtProcChooserOptions). */
  fallbacks: { readonly share: number; readonly counted: boolean } = { share: 0, counted: false },
  /** Stalls of the release path (see ExtProcChooserOptions.releaseStalls), drawn per seed. */
  releaseStalls?: { readonly meanGapMs: number; readonly stallMs: number },
): ExtProcSimLevel[] {
  return users.map((u) => {
    const eds: RunResult[] = [];
    const picked: RunResult[] = [];
    for (const seed of seeds) {
      const demo = scenarioFor(seed);
      const { prelude: _history, ...run } = simRunFor(demo, 'proxima', u, 0, { probeIntervalMs: 1000, overheadMs });
      const world = simScenarioFor(demo, u);
      const serviceMs = (node: string): number => world.nodes.find((n) => n.name === node)?.serviceTimeMs ?? world.serviceTimeMs;
      eds.push(runSimulation(run));
      picked.push(
        runSimulation({
          ...run,
          chooser: extprocChooser({
            rttMs: (a, b) => link(world, a, b).rttMs,
            serviceMs,
            podServiceTime: true,
            rng: streamFor(seed, 'extproc-pick'),
            fallbackShare: fallbacks.share,
            countFallbacks: fallbacks.counted,
            ...(releaseStalls ? { releaseStalls: { ...releaseStalls, rng: streamFor(seed, 'release-stalls') } } : {}),
          }),
        }),
      );
    }
    return { users: u, eds: cell(eds), extproc: cell(picked) };
  });
}
