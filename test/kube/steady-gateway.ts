/** The test side of gateway-child.ts: spawn it with a bootstrap and talk to it line by line. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface Window {
  readonly counts: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
}

export interface SteadyGateway {
  run(n: number, timeoutMs?: number): Promise<Window>;
  start(intervalMs: number, timeoutMs?: number): Promise<void>;
  take(): Promise<Window>;
  stop(): Promise<Window>;
  stderr(): string;
  close(): Promise<void>;
}

export const total = (w: Window): number => Object.values(w.counts).reduce((a, b) => a + b, 0);
export const failures = (w: Window): number => Object.values(w.errors).reduce((a, b) => a + b, 0);

/** A grpc-js-xds gateway process with the given bootstrap (JSON object) dialing `target`. */
export function startSteadyGateway(bootstrap: Record<string, unknown>, target: string): SteadyGateway {
  const env: NodeJS.ProcessEnv = { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) };
  delete env.GRPC_XDS_BOOTSTRAP;
  const child = spawn(process.execPath, [join(here, 'gateway-child.js'), target], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err = (err + d).slice(-20_000)));
  const pending: Array<(line: string) => void> = [];
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => pending.shift()?.(line));
  let exited = false;
  const exitedP = new Promise<void>((r) =>
    child.on('exit', () => {
      exited = true;
      r();
    }),
  );
  const ask = <T>(msg: Record<string, unknown>, limitMs: number): Promise<T> => {
    if (exited) return Promise.reject(new Error(`gateway exited: ${err}`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway: no answer to ${msg['cmd']} in ${limitMs} ms; stderr: ${err}`)), limitMs);
      pending.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as T);
      });
      child.stdin.write(JSON.stringify(msg) + '\n');
    });
  };
  return {
    run: (n, timeoutMs = 5000) => ask<Window>({ cmd: 'run', n, timeoutMs }, n * timeoutMs + 5000),
    start: async (intervalMs, timeoutMs = 2000) => void (await ask({ cmd: 'start', intervalMs, timeoutMs }, 5000)),
    take: () => ask<Window>({ cmd: 'take' }, 5000),
    stop: () => ask<Window>({ cmd: 'stop' }, 10_000),
    stderr: () => err,
    async close() {
      if (!exited) {
        child.stdin.end(JSON.stringify({ cmd: 'exit' }) + '\n');
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exitedP;
        clearTimeout(kill);
      }
      rl.close();
    },
  };
}
