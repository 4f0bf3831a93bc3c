import type { ChildProcess } from 'node:child_process';

/** Wait for the first IPC message matching `pick` (or fail on timeout / a fatal message / exit). */
export function nextMessage<M extends { type: string }, R>(
  child: ChildProcess,
  pick: (m: M) => R | undefined,
  timeoutMs: number,
  what: string,
): Promise<R> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    const onMessage = (m: M) => {
      if (m.type === 'fatal') return done(new Error(`${what}: ${(m as unknown as { error: string }).error}`));
      const r = pick(m);
      if (r !== undefined) done(undefined, r);
    };
    const onExit = (code: number | null) => done(new Error(`${what}: process exited with ${code}`));
    function done(err?: Error, value?: R) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value as R);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
