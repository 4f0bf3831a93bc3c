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
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${what}: "${value}" is not host:port (port 0 picks a free port)`);
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
    const fromEnv = env[envName(o.name)];
    if (fromEnv !== undefined && fromEnv !== '') out[o.name] = convert(o, fromEnv, `${envName(o.name)}`);
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Options every subcommand accepts. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  { name: 'log-level', kind: 'string', choices: LOG_LEVELS, default: 'info', arg: 'LEVEL', description: 'Log level.' },
  {
    name: 'log-format',
    kind: 'string',
    choices: ['json', 'pretty'],
    default: 'json',
    arg: 'FORMAT',
    description: 'json (one object per line) or pretty (human-readable).',
  },
];

export const SERVE_SPEC: CommandSpec = {
  name: 'serve',
  summary: 'run the control plane: xDS (ADS SotW+Delta, LRS), ext_proc, scheduler extender and admin HTTP',
  usage: 'proxima serve [--topology FILE | --kubernetes] [--policy NAME] [options]',
  options: [
    {
      name: 'topology',
      kind: 'string',
      arg: 'FILE',
      description:
        'Topology YAML to serve (watched; a bad edit is logged and the last good file stays in force). Default when neither --topology nor --kubernetes: the example shipped in examples/topology.yaml.',
    },
    {
      name: 'kubernetes',
      kind: 'boolean',
      default: false,
      description: 'Learn nodes, endpoints and Knative objects from the Kubernetes API (in-cluster config or KUBECONFIG).',
    },
    {
      name: 'policy',
      kind: 'string',
      choices: ['proxima', 'faast', 'nearest', 'even'],
      default: 'proxima',
      arg: 'NAME',
      description: 'Routing policy.',
    },
    {
      name: 'xds-listen',
      kind: 'listen',
      default: '0.0.0.0:18000',
      arg: 'HOST:PORT',
      description: 'gRPC listener for ADS, CDS/EDS/LDS/RDS and LRS. Port 0 picks a free port.',
    },
    {
      name: 'extproc-listen',
      kind: 'listen',
      default: '0.0.0.0:18001',
      arg: 'HOST:PORT',
      description: 'gRPC listener for the Envoy ext_proc endpoint picker. Port 0 picks a free port.',
    },
    {
      name: 'extender-listen',
      kind: 'listen',
      default: '0.0.0.0:8888',
      arg: 'HOST:PORT',
      description: 'HTTP listener for the kube-scheduler extender. Port 0 picks a free port.',
    },
    {
      name: 'admin-listen',
      kind: 'listen',
      default: '0.0.0.0:9090',
      arg: 'HOST:PORT',
      description: 'HTTP listener for /metrics, /healthz, /readyz, /debug/* and /ui. Port 0 picks a free port.',
    },
    {
      name: 'recompute-interval-ms',
      kind: 'number',
      default: 2000,
      arg: 'MS',
      description: 'Re-run the policy at least this often so decayed measurements and demand are picked up.',
    },
    ...COMMON_OPTIONS,
  ],
  epilog: [
    'Gateways identify their node by node.locality.sub_zone of the xDS Node, else node.id.',
    'Example:',
    '  proxima serve --topology examples/topology.yaml --xds-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0',
  ].join('\n'),
};
