import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Node module hooks (module.register) that let tests import the k6 scripts in loadtest/ unchanged:
 * `k6` and `k6/*` resolve to the test shim (test/loadtest-k6-shim.ts), and `.ts` files under
 * loadtest/ are transpiled on the fly (type stripping only, as k6's esbuild does).
 */

interface HookData {
  readonly shimUrl: string;
  readonly loadtestUrl: string;
}

let data: HookData | undefined;

export function initialize(d: HookData): void {
  data = d;
}

/** Named exports each k6 module offers to the scripts (a subset of the real API). */
const K6_EXPORTS: Readonly<Record<string, readonly string[]>> = {
  k6: ['check', 'sleep', 'fail', 'group'],
  'k6/http': [],
  'k6/metrics': ['Counter', 'Rate', 'Trend', 'Gauge'],
  'k6/net/grpc': ['Client', 'Stream', 'StatusOK'],
  'k6/timers': ['setTimeout', 'clearTimeout'],
  'k6/encoding': ['b64encode', 'b64decode'],
  'k6/execution': [],
};

type Next<A extends unknown[], R> = (...args: A) => Promise<R>;

export async function resolve(
  specifier: string,
  context: { parentURL?: string },
  next: Next<[string, { parentURL?: string }], { url: string; shortCircuit?: boolean }>,
): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'k6' || specifier.startsWith('k6/')) {
    if (!(specifier in K6_EXPORTS)) throw new Error(`k6 shim: module ${specifier} is not stubbed (add it to test/loadtest-k6-hooks.ts)`);
    return { url: `k6shim:${specifier}`, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(
  url: string,
  context: { format?: string },
  next: Next<[string, { format?: string }], { format: string; source?: string | Buffer; shortCircuit?: boolean }>,
): Promise<{ format: string; source?: string | Buffer; shortCircuit?: boolean }> {
  if (!data) throw new Error('k6 shim hooks not initialised');
  if (url.startsWith('k6shim:')) {
    const spec = url.slice('k6shim:'.length);
    const names = K6_EXPORTS[spec]!;
    const lines = [
      `import { k6modules } from ${JSON.stringify(data.shimUrl)};`,
      `const m = k6modules[${JSON.stringify(spec)}];`,
      'export default m;',
    ];
    for (const n of names) lines.push(`export const ${n} = m.${n};`);
    return { format: 'module', source: lines.join('\n'), shortCircuit: true };
  }
  if (url.startsWith(data.loadtestUrl) && /\.ts(\?.*)?$/.test(url)) {
    const path = fileURLToPath(url.replace(/\?.*$/, ''));
    const out = ts.transpileModule(readFileSync(path, 'utf8'), {
      fileName: path,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    return { format: 'module', source: out.outputText, shortCircuit: true };
  }
  return next(url, context);
}
