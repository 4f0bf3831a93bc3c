/**
 * Options for every subcommand, parsed once from flags and environment and frozen. This is the only
 * module that reads `process.env` (callers pass it in). Each option has a flag and an env var
 * (`PROXIMA_` + the flag name in upper snake case); a flag wins over the env var.
 */

export type OptionKind = 'string' | 'boolean' | 'number' | 'listen' | 'list';

export interface OptionSpec {
  readonly name: string;
  readonly kind: OptionKind;
  readonly description: string;
  readonly default?: string | number | boolean | readonly string[];
  /** Allowed values for `string` options. */
  readonly choices?: readonly string[];
  /** Placeholder shown in --help, e.g. FILE. */
  readonly arg?: string;
  /** Another environment variable read when PROXIMA_… is unset (e.g. net-kourier's CERTS_SECRET_NAME). */
  readonly envAlias?: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: readonly OptionSpec[];
  /** Extra help text after the option list (examples, notes). */
  readonly epilog?: string;
}

/** host:port with port 0 meaning "pick a free port". */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export type OptionValue = string | number | boolean | ListenAddress | readonly string[] | undefined;
export type ParsedOptions = Readonly<Record<string, OptionValue>>;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function envName(option: string): string {
  return `PROXIMA_${option.replace(/-/g, '_').toUpperCase()}`;
}

export function parseListen(value: string, what: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
  if (!m) throw new UsageError(`${what}: "${value}" is not host:port, e.g. 127.0.0.1:9090 or :18000 (port 0 picks a free port)`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`${what}: port ${m[3]} is out of range (0-65535; 0 picks a free port)`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function formatListen(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function convert(spec: OptionSpec, raw: string | boolean, source: string): OptionValue {
  const what = `${source}`;
  switch (spec.kind) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new UsageError(`${what}: "${raw}" is not a boolean (true/false)`);
    case 'number': {
      const n = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n))
        throw new UsageError(`${what}: "${String(raw)}" is not a number`);
      return n;
    }
    case 'listen':
      return parseListen(String(raw), what);
    case 'list':
      return String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'string': {
      const s = String(raw);
      if (spec.choices && !spec.choices.includes(s)) throw new UsageError(`${what}: "${s}" is not one of ${spec.choices.join(', ')}`);
      return s;
    }
  }
}

/**
 * Parse `argv` (the arguments after the subcommand) against `spec`, with `env` as fallback.
 * Returns frozen options keyed by option name; `help: true` when --help/-h was given.
 */
export function parseOptions(spec: CommandSpec, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedOptions {
  const byName = new Map(spec.options.map((o) => [o.name, o] as const));
  const out: Record<string, OptionValue> = {};
  for (const o of spec.options) {
    const own = env[envName(o.name)];
    const useAlias = (own === undefined || own === '') && o.envAlias !== undefined;
    const fromEnv = useAlias ? env[o.envAlias!] : own;
    if (fromEnv !== undefined && fromEnv !== '') out[o.name] = convert(o, fromEnv, useAlias ? o.envAlias! : envName(o.name));
    else if (o.default !== undefined)
      out[o.name] = o.kind === 'listen' ? parseListen(String(o.default), `--${o.name}`) : (o.default as OptionValue);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      out['help'] = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}" (see proxima ${spec.name} --help)`);
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let negated = false;
    if (!byName.has(name) && name.startsWith('no-') && byName.get(name.slice(3))?.kind === 'boolean') {
      name = name.slice(3);
      negated = true;
    }
    const o = byName.get(name);
    if (!o) throw new UsageError(`unknown option --${name} (see proxima ${spec.name} --help)`);
    let raw: string | boolean;
    if (o.kind === 'boolean') raw = eq >= 0 ? arg.slice(eq + 1) : !negated;
    else if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`--${name} needs a value`);
      raw = next;
      i++;
    }
    out[name] = convert(o, raw, `--${name}`);
  }
  return Object.freeze(out);
}

export function renderHelp(spec: CommandSpec): string {
  const lines = [
    `proxima ${spec.name} — ${spec.summary}`,
    '',
    `Usage: ${spec.usage}`,
    '',
    'Options (each also read from the environment variable shown):',
  ];
  for (const o of spec.options) {
    const flag = `--${o.name}${o.kind === 'boolean' ? '' : ` ${o.arg ?? o.kind.toUpperCase()}`}`;
    const def = o.default === undefined ? '' : ` (default: ${Array.isArray(o.default) ? o.default.join(',') : String(o.default)})`;
    const choices = o.choices ? ` One of: ${o.choices.join(', ')}.` : '';
    lines.push(`  ${flag}`);
    lines.push(`      ${o.description}${choices}${def}  [${envName(o.name)}]`);
  }
  lines.push('  --help, -h', '      Show this help.');
  if (spec.epilog) lines.push('', spec.epilog);
  return lines.join('\n') + '\n';
}

// Typed accessors keep call sites short and fail loudly on a spec/accessor mismatch.
export function str(o: ParsedOptions, name: string): string | undefined {
  const v = o[name];
  if (v !== undefined && typeof v !== 'string') throw new Error(`option ${name} is not a string`);
  return v;
}
export function num(o: ParsedOptions, name: string): number {
  const v = o[name];
  if (typeof v !== 'number') throw new Error(`option ${name} is not a number`);
  return v;
}
export function bool(o: ParsedOptions, name: string): boolean {
  return o[name] === true;
}
export function listen(o: ParsedOptions, name: string): ListenAddress {
  const v = o[name];
  if (!v || typeof v !== 'object' || !('port' in v)) throw new Error(`option ${name} is not a listen address`);
  return v;
}
export function list(o: ParsedOptions, name: string): readonly string[] {
  const v = o[name];
  return Array.isArray(v) ? (v as readonly string[]) : [];
}
