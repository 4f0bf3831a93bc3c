import { delayStepRuns } from '../../src/emulator/delay-step-sim.js';
import type { Bench, BenchContext } from './types.js';

/**
 * The demo's delay step in the simulator (src/emulator/delay-step-sim.ts): how far each entry gateway's
 * split ends from the best split for the true inputs (the demand each seed drew), with proxima's
 * hysteresis and without any.
 */
const bench: Bench = {
  name: 'policy-delay-step',
  description: "the demo's delay step in the simulator: each gateway's final distance from the best split, with and without hysteresis",
  async run(ctx: BenchContext) {
    const seeds = ctx.quick ? [1, 2, 3] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const variants = [
      { label: 'proxima (default hysteresis)', policy: {} },
      { label: 'no hysteresis', policy: { hysteresisCost: 0, hysteresisShare: 0 } },
    ];
    const results = variants.map((v) => {
      ctx.progress(v.label);
      return { ...v, ...delayStepRuns({ seeds, policy: v.policy }) };
    });
    const table: Array<Array<string | number>> = [
      [
        'variant',
        'gateway',
        'best split (configured demand)',
        "its own share in each seed's best split (the demand that seed drew)",
        "final distance per seed from that seed's best (points, max over the last 4 recomputes)",
      ],
    ];
    for (const r of results)
      for (const g of Object.keys(r.seeds[0]!.endDistance))
        table.push([
          r.label,
          g,
          Object.entries(r.best[g] ?? {})
            .map(([n, s]) => `${n} ${s}`)
            .join(', '),
          r.seeds.map((s) => (s.best[g]?.[g] ?? 0).toFixed(0)).join(' '),
          r.seeds.map((s) => s.endDistance[g]!.toFixed(0)).join(' '),
        ]);
    const within = (r: (typeof results)[number]) => r.seeds.filter((s) => Object.values(s.endDistance).every((d) => d <= 5)).length;
    return {
      results: { seeds, variants: results },
      table,
      verdicts: results.map(
        (r) => `${r.label}: every gateway within 5 points of the best at the end on ${within(r)} of ${seeds.length} seeds`,
      ),
    };
  },
};

export default bench;
