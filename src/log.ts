import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  readonly level?: string;
  readonly format?: 'json' | 'pretty';
  readonly name?: string;
  /** Longer string values in a log event are cut to this many characters (default 1024). */
  readonly maxValueChars?: number;
  /** Where json lines go (default stdout); for tests. */
  readonly destination?: DestinationStream;
}

export const DEFAULT_MAX_LOG_VALUE_CHARS = 1024;

/** Cut long strings (a peer-chosen name can be megabytes) so one event stays one bounded line. */
export function boundValues(value: unknown, maxChars: number, depth = 0): unknown {
  if (typeof value === 'string')
    return value.length > maxChars ? `${value.slice(0, maxChars)}…(${value.length - maxChars} more chars)` : value;
  if (depth >= 3 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) {
    const head = value.slice(0, 64).map((v) => boundValues(v, maxChars, depth + 1));
    return value.length > 64 ? [...head, `…(${value.length - 64} more items)`] : head;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = boundValues(v, maxChars, depth + 1);
  return out;
}

/** Structured logger (pino). `pretty` prints one readable line per event to stderr, without extra dependencies. */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const maxChars = opts.maxValueChars ?? DEFAULT_MAX_LOG_VALUE_CHARS;
  const formatters = { log: (o: Record<string, unknown>) => boundValues(o, maxChars) as Record<string, unknown> };
  const hooks = {
    logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: unknown[]) => void) {
      const bounded = args.map((a) => (typeof a === 'string' ? boundValues(a, maxChars) : a));
      method.apply(this, bounded);
    },
  };
  if (opts.format === 'pretty') {
    return pino(
      { level, base: opts.name ? { name: opts.name } : {}, timestamp: pino.stdTimeFunctions.isoTime, formatters, hooks },
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
  const options = { level, base: opts.name ? { name: opts.name } : {}, formatters, hooks };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
