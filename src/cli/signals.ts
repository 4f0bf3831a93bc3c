import type { Logger } from '../log.js';

/** Resolve on the first SIGINT or SIGTERM (logged), for a graceful shutdown. */
export function untilTerminated(log?: Logger): Promise<void> {
  return new Promise<void>((resolveSignal) => {
    const stop = (signal: string) => {
      log?.info({ signal }, 'shutting down');
      resolveSignal();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
