import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeFailure, wantsDebug } from './errors.js';
import { packageRoot } from './paths.js';

/** Subcommands; each module exports `main(argv, env)` returning the exit code. */
const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<{ main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> }> }
> = {
  serve: { summary: 'run the control plane (xDS, LRS, ext_proc, scheduler extender, admin HTTP)', load: () => import('./serve.js') },
  probe: { summary: 'run the node agent: measure RTT to peers and report it to the control plane', load: () => import('./probe.js') },
  demo: {
    summary: 'run an emulated edge cluster on this machine and compare routing policies end to end',
    load: () => import('./demo.js'),
  },
  'closed-loop': {
    summary: "demand steps up at an edge: Knative's autoscaler adds pods, the scheduler places them, routing follows",
    load: () => import('./closed-loop.js'),
  },
};

function version(): string {
  try {
    return (JSON.parse(readFileSync(resolve(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function usage(): string {
  const lines = ['proxima — latency-aware routing for Knative on edge clusters', '', 'Usage: proxima <command> [options]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  lines.push(
    '',
    'Run `proxima <command> --help` for the options of a command (every flag also has a PROXIMA_* env var).',
    '`proxima --version` prints the version.',
  );
  return lines.join('\n') + '\n';
}

export async function run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return command ? 0 : 2;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`proxima ${version()}\n`);
    return 0;
  }
  const c = COMMANDS[command];
  if (!c) {
    process.stderr.write(`proxima: unknown command "${command}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await c.load()).main(rest, env);
  } catch (err) {
    const { text, exitCode } = describeFailure(command, err, wantsDebug(rest, env));
    process.stderr.write(text);
    return exitCode;
  }
}
