/**
 * The Dockerfile, checked without a Docker engine (there is none here, and hadolint is neither in
 * Debian nor on npm): `dockerfile-utils` (the linter behind VS Code's Docker support) validates the
 * syntax and flags, and a small parser asserts the properties the image must have — multi-stage
 * `npm ci` build, production-only dependencies, non-root uid 65532, the ENTRYPOINT every
 * subcommand runs through, a HEALTHCHECK without curl, a pinned base and a context .dockerignore
 * lets through. The HEALTHCHECK command itself is run against a live admin port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import { packageRoot } from '../src/cli/paths.js';

const ROOT = packageRoot();
const TEXT = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

interface Instr {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}
interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instrs: Instr[];
}

/** Instructions (continuations joined, comments dropped), grouped into build stages. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const instrs: Instr[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!buf && (/^\s*#/.test(line) || !line.trim())) return;
    if (buf && /^\s*#/.test(line)) return; // comments inside a continuation
    if (!buf) start = i + 1;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) return;
    const m = /^(\S+)\s*(.*)$/.exec(buf)!;
    instrs.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: start });
    buf = '';
  });
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instrs) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const from = m[1]!.replace(/\$\{?(\w+)\}?/g, (_x, v: string) => args.get(v) ?? '');
      stages.push({ from, ...(m[2] ? { name: m[2] } : {}), instrs: [] });
    } else if (!stages.length && ins.keyword === 'ARG') {
      const [k, v] = ins.args.split('=', 2);
      args.set(k!, v ?? '');
    } else stages.at(-1)?.instrs.push(ins);
  }
  return { args, stages };
}

const { stages } = parseDockerfile(TEXT);
const final = stages.at(-1)!;
const all = (s: Stage, kw: string) => s.instrs.filter((i) => i.keyword === kw);
const one = (s: Stage, kw: string) => {
  const found = all(s, kw);
  assert.equal(found.length, 1, `exactly one ${kw} in stage ${s.name}`);
  return found[0]!;
};

test('dockerfile-utils finds no problem, every optional rule raised to an error (no Docker engine here)', () => {
  const E = ValidationSeverity.ERROR;
  const diagnostics = validate(TEXT, {
    deprecatedMaintainer: E,
    directiveCasing: E,
    emptyContinuationLine: E,
    instructionCasing: E,
    instructionCmdMultiple: E,
    instructionEntrypointMultiple: E,
    instructionHealthcheckMultiple: E,
    instructionJSONInSingleQuotes: E,
    instructionWorkdirRelative: E,
  });
  assert.deepEqual(
    diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`),
    [],
  );
  // The linter does find problems (it can fail).
  assert.ok(
    validate("FROM node:20 AS a\nWORKDIR app\nCMD ['x']\n", { instructionWorkdirRelative: E, instructionJSONInSingleQuotes: E }).length >=
      2,
  );
});

test('multi-stage: pinned node:20 bookworm-slim base, `npm ci` + `npm run build`, production dependencies from the lockfile', () => {
  assert.ok(stages.length >= 2, 'multi-stage');
  for (const s of stages) {
    assert.match(
      s.from,
      /^node:20(\.\d+){0,2}-bookworm-slim@sha256:[0-9a-f]{64}$/,
      `stage ${s.name} base ${s.from} is node:20 bookworm-slim, pinned by tag and digest`,
    );
    assert.ok(!all(s, 'ADD').length, 'COPY, never ADD (no remote fetches)');
  }
  const build = stages.find((s) => all(s, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)));
  assert.ok(build, 'a stage runs npm run build');
  const runs = all(build, 'RUN').map((r) => r.args);
  assert.ok(
    runs.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r)),
    'the build stage installs with npm ci (dev dependencies for tsc)',
  );
  assert.ok(
    build.instrs.findIndex((i) => i.keyword === 'COPY' && i.args.includes('package-lock.json')) <
      build.instrs.findIndex((i) => i.keyword === 'RUN'),
    'the lockfile is copied before npm ci (and before the sources, for layer caching)',
  );
  const prod = stages.find((s) => all(s, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev|npm prune --omit=dev/.test(r.args)));
  assert.ok(prod, 'production dependencies via npm ci --omit=dev (or npm prune)');
  const copies = all(final, 'COPY').map((c) => c.args);
  assert.ok(
    copies.some((c) => c.includes(`--from=${prod.name}`) && c.includes('node_modules')),
    'the runtime stage takes the production node_modules',
  );
  assert.ok(
    copies.some((c) => c.includes(`--from=${build.name}`) && /dist\/src/.test(c)),
    'the runtime stage takes the compiled dist/src',
  );
  assert.ok(!copies.some((c) => /--from=\S+\s+\S*\/src\/node_modules/.test(c)), 'never the build stage’s dev node_modules');
});

test('runtime: non-root uid 65532, ENTRYPOINT node /app/dist/src/cli/main.js, ports, files the CLI reads at run time', () => {
  const user = one(final, 'USER');
  assert.match(user.args, /^65532(:65532)?$/);
  const entry = one(final, 'ENTRYPOINT');
  assert.deepEqual(JSON.parse(entry.args), ['node', '/app/dist/src/cli/main.js']);
  assert.ok(user.line < entry.line, 'USER before ENTRYPOINT');
  assert.equal(one(final, 'WORKDIR').args, '/app');
  // package.json's bin and tsc's output agree with the path the ENTRYPOINT runs.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(`/app/${pkg.bin['proxima']}`, '/app/dist/src/cli/main.js');
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: { outDir: string; rootDir: string };
  };
  assert.equal(tsconfig.compilerOptions.outDir, 'dist');
  assert.equal(tsconfig.compilerOptions.rootDir, '.');
  assert.ok(existsSync(join(ROOT, 'src', 'cli', 'main.ts')));
  const exposed = one(final, 'EXPOSE').args.split(/\s+/).map(Number);
  for (const p of [18000, 18001, 8888, 9090]) assert.ok(exposed.includes(p), `EXPOSE ${p}`);
  // Read at run time relative to the package root: package.json (version), protos, the default topology, envoy configs.
  const copied = all(final, 'COPY')
    .filter((c) => !c.args.startsWith('--from'))
    .map((c) => c.args.split(/\s+/)[0]);
  for (const p of ['package.json', 'protos', 'examples', 'envoy']) assert.ok(copied.includes(p), `COPY ${p}`);
  const cmd = JSON.parse(one(final, 'CMD').args) as string[];
  assert.equal(cmd[0], 'serve', 'default subcommand');
});

/** .dockerignore semantics (last matching pattern wins, `!` re-includes) for the patterns used. */
function dockerignored(path: string): boolean {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const toRe = (p: string) =>
    new RegExp(
      '^' +
        p
          .replace(/\/$/, '')
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '§§')
          .replace(/\*/g, '[^/]*')
          .replace(/§§/g, '(?:.*/)?') +
        '(?:/.*)?$',
    );
  let ignored = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    if (toRe(negated ? p.slice(1) : p).test(path)) ignored = !negated;
  }
  return ignored;
}

test('.dockerignore keeps the context small and lets through everything COPY needs', () => {
  for (const s of stages) {
    for (const c of all(s, 'COPY').filter((x) => !x.args.startsWith('--from'))) {
      const parts = c.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        assert.ok(existsSync(join(ROOT, src)), `COPY ${src} exists`);
        assert.ok(!dockerignored(src), `COPY ${src} is not excluded by .dockerignore`);
      }
    }
  }
  for (const p of ['node_modules', 'dist', 'dist-ship', '.git', 'test/ship-dockerfile.test.ts', 'src/cli/serve.test.ts', 'reports'])
    assert.ok(dockerignored(p), `${p} stays out of the build context`);
  assert.ok(!dockerignored('src/cli/main.ts'));
});

test('the HEALTHCHECK command runs with node alone and tells a healthy admin port from a dead one', async () => {
  const hc = one(final, 'HEALTHCHECK');
  assert.match(hc.args, /--interval=\d+s/);
  const json = hc.args.slice(hc.args.indexOf('CMD') + 3).trim();
  const argv = JSON.parse(json) as string[];
  assert.equal(argv[0], 'node', 'no curl in the slim image');
  assert.ok(argv.join(' ').includes('/healthz'));
  // Async: the server answering the check lives in this process.
  const run = (url: string) =>
    new Promise<{ status: number | null }>((resolveRun) => {
      const child = spawn(process.execPath, argv.slice(1), {
        env: { PATH: process.env['PATH'] ?? '', HEALTHCHECK_URL: url },
        stdio: 'ignore',
        timeout: 10_000,
      });
      child.once('exit', (status) => resolveRun({ status }));
    });

  const server: Server = createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404);
    res.end('ok\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  try {
    assert.equal((await run(`http://127.0.0.1:${port}/healthz`)).status, 0, 'healthy');
    assert.equal((await run(`http://127.0.0.1:${port}/missing`)).status, 1, 'a non-2xx answer is unhealthy');
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  assert.equal((await run(`http://127.0.0.1:${port}/healthz`)).status, 1, 'a closed port is unhealthy');
});
