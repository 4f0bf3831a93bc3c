import { pino, type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  readonly level?: string;
  readonly format?: 'json' | 'pretty';
  readonly name?: string;
}

/** Structured logger (pino). `pretty` prints one readable line per event to stderr, without extra dependencies. */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? 'info';
  if (opts.format === 'pretty') {
    return pino(
      { level, base: opts.name ? { name: opts.name } : {}, timestamp: pino.stdTimeFunctions.isoTime },
      {
        write(line: string) {
          const { level: lvl, time, msg, name: _n, pid: _p, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const label = pino.levels.labels[Number(lvl)] ?? String(lvl);
          const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
          process.stderr.write(`${String(time)} ${label.toUpperCase().padEnd(5)} ${String(msg ?? '')}${extra}\n`);
        },
      },
    );
  }
  return pino({ level, base: opts.name ? { name: opts.name } : {} });
}

/** A logger that drops everything, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
