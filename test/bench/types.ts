/** The contract between `npm run bench` and each benchmark module (`*.bench.ts` in this folder). */
export interface BenchContext {
  /** Smaller sizes for a quick check (`npm run bench -- --quick` or BENCH_QUICK=1). */
  readonly quick: boolean;
  /** Print a progress line to stderr. */
  progress(message: string): void;
}

export interface BenchOutcome {
  /** Everything measured, written as JSON to reports/bench/<name>.json. */
  readonly results: unknown;
  /** A short table: first row is the header. */
  readonly table: ReadonlyArray<ReadonlyArray<string | number>>;
  /** Optional one-line verdicts against the targets, e.g. "p99 142 ms < 200 ms: PASS". */
  readonly verdicts?: readonly string[];
}

export interface Bench {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}
