/**
 * How a command fails at start-up: one line naming the cause and what to change, exit code 2 for
 * usage and configuration errors, 1 for anything else, and the stack only with `--log-level debug`.
 */
import { envName, UsageError } from '../config.js';

/** A failure that is not the user's configuration but needs no stack either (e.g. an API not reachable). */
export class FatalError extends Error {
  override readonly name = 'FatalError';
}

/** What a failed bind means for the user, with the flag (and env var) that sets the address. */
export function listenError(flag: string, address: string, err: unknown): Error {
  const text = String((err as Error)?.message ?? err);
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  const env = envName(flag.replace(/^--/, ''));
  if (code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(text))
    return new UsageError(
      `${flag} ${address}: the address is already in use (another proxima running?); choose another with ${flag} or ${env}`,
    );
  if (code === 'EACCES' || /EACCES|permission denied/i.test(text))
    return new UsageError(
      `${flag} ${address}: not allowed to listen there (ports below 1024 need privileges); choose another with ${flag}`,
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || /EADDRNOTAVAIL|ENOTFOUND|cannot assign requested address/i.test(text))
    return new UsageError(`${flag} ${address}: no such local address on this machine; use 0.0.0.0, 127.0.0.1 or an address of this host`);
  return new UsageError(`${flag} ${address}: cannot listen (${text.split('\n')[0]})`);
}

/** Does this command line or environment ask for debug logs (and so for stacks)? */
export function wantsDebug(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const i = argv.findIndex((a) => a === '--log-level' || a.startsWith('--log-level='));
  const level = i < 0 ? env['PROXIMA_LOG_LEVEL'] : argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  return level === 'debug' || level === 'trace';
}

/** The text to print and the exit code for an error that ended `proxima <command>`. */
export function describeFailure(command: string, err: unknown, debug: boolean): { text: string; exitCode: number } {
  const e = err instanceof Error ? err : new Error(String(err));
  const exitCode = e instanceof UsageError ? 2 : 1;
  const known = e instanceof UsageError || e instanceof FatalError;
  const line = `proxima ${command}: ${e.message.split('\n')[0]}`;
  const rest = e.message.includes('\n') ? '\n' + e.message.slice(e.message.indexOf('\n') + 1) : '';
  if (debug) return { text: `${line}${rest}\n${e.stack ?? ''}\n`, exitCode };
  return { text: `${line}${rest}\n${known ? '' : '(run with --log-level debug for the stack)\n'}`, exitCode };
}
