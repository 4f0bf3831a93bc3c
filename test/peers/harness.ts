import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Debian's grpcio; the `python3` on PATH may be another build. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export type ClientKind = 'grpc-js' | 'c-core';

export interface RunResult {
  readonly counts: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
}

export interface GatewayClient {
  readonly kind: ClientKind;
  readonly node: string;
  /** Make `n` sequential RPCs (wait-for-ready) and tally which backend answered. */
  run(n: number, timeoutMs?: number): Promise<RunResult>;
  /** Everything the child wrote to stderr so far (for failure messages). */
  stderr(): string;
  close(): Promise<void>;
}

/** A gRPC xDS bootstrap giving the client its own node identity (id + locality.sub_zone). */
export function xdsBootstrap(xdsPort: number, node: string, zone = ''): Record<string, unknown> {
  return {
    xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: `gateway-${node}`, cluster: 'proxima-test', locality: { zone, sub_zone: node } },
  };
}

/** The C-core client script lives beside this file's source (tsc does not copy .py files). */
function pyClientPath(): string {
  for (const candidate of [join(here, 'grpc_py_client.py'), resolve(here, '..', '..', '..', 'test', 'peers', 'grpc_py_client.py')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('grpc_py_client.py not found');
}

/** Why C-core cannot run here, or undefined when it can. */
export function cCoreUnavailable(): string | undefined {
  if (!existsSync(DEBIAN_PYTHON)) return `${DEBIAN_PYTHON} not found`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', 'import grpc; print(grpc.__version__)'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return `Debian python3-grpcio missing: ${r.stderr.trim().split('\n').pop() ?? ''}`;
  return undefined;
}

/** Start a gateway client process for `node` dialing `target` (e.g. `xds:///hello.default`). */
export async function startClient(
  kind: ClientKind,
  opts: { xdsPort: number; node: string; target: string; env?: Record<string, string> },
): Promise<GatewayClient> {
  const bootstrap = JSON.stringify(xdsBootstrap(opts.xdsPort, opts.node));
  let child: ChildProcess;
  let tmp: string | undefined;
  const baseEnv = { ...process.env, ...(opts.env ?? {}) };
  delete baseEnv.GRPC_XDS_BOOTSTRAP;
  delete baseEnv.GRPC_XDS_BOOTSTRAP_CONFIG;
  if (kind === 'grpc-js') {
    child = spawn(process.execPath, [join(here, 'grpcjs-client.js'), opts.target], {
      env: { ...baseEnv, GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } else {
    tmp = mkdtempSync(join(tmpdir(), 'proxima-xds-'));
    const file = join(tmp, 'bootstrap.json');
    writeFileSync(file, bootstrap);
    child = spawn(DEBIAN_PYTHON, [pyClientPath(), opts.target], {
      env: { ...baseEnv, GRPC_XDS_BOOTSTRAP: file, PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err = (err + d).slice(-20_000);
  });
  const pending: Array<(line: string) => void> = [];
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => pending.shift()?.(line));
  let exited = false;
  const exitedPromise = new Promise<void>((r) =>
    child.on('exit', () => {
      exited = true;
      r();
    }),
  );
  return {
    kind,
    node: opts.node,
    stderr: () => err,
    run(n: number, timeoutMs = 5000): Promise<RunResult> {
      if (exited) return Promise.reject(new Error(`${kind} client for ${opts.node} exited: ${err}`));
      const limitMs = n * timeoutMs + 10_000;
      return new Promise<RunResult>((resolveRun, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${kind} client for ${opts.node}: no answer in ${limitMs} ms; stderr: ${err}`)),
          limitMs,
        );
        pending.push((line) => {
          clearTimeout(timer);
          resolveRun(JSON.parse(line) as RunResult);
        });
        child.stdin!.write(JSON.stringify({ cmd: 'run', n, timeoutMs }) + '\n');
      });
    },
    async close(): Promise<void> {
      if (!exited) {
        child.stdin!.end(JSON.stringify({ cmd: 'exit' }) + '\n');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exitedPromise;
        clearTimeout(killTimer);
      }
      rl.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Share of `r`'s successful RPCs answered by `id`. */
export function share(r: RunResult, id: string): number {
  const total = Object.values(r.counts).reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : (r.counts[id] ?? 0) / total;
}
