/**
 * The dependency direction docs/architecture.md states ("Dependency direction"), read from the real
 * imports of src/ (TypeScript parser, test files excluded): sources → model ← engine → policy, the
 * servers read model and engine, and only the CLI wires parts together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from '../src/cli/paths.js';
import { moduleSpecifiers, sourceFiles } from './repo-imports.js';

const SRC = join(packageRoot(), 'src');
const SERVERS = ['xds', 'lrs', 'extproc', 'extender', 'probe', 'admin'];

/** The top-level part of a path under src/ (`model`, `xds`, `config.ts` …). */
const partOf = (file: string) => relative(SRC, file).split('/')[0]!;

/** Part → parts it imports (relative imports only; a part importing itself is left out). */
function partGraph(files: ReadonlyArray<{ file: string; text: string }>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { file, text } of files) {
    const from = partOf(file);
    for (const spec of moduleSpecifiers(text, file)) {
      if (!spec.startsWith('.')) continue;
      const to = partOf(resolve(dirname(file), spec));
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** Violations of the stated rules in a part graph. */
function directionViolations(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const out: string[] = [];
  const deps = (p: string) => [...(graph.get(p) ?? [])];
  const only = (part: string, allowed: readonly string[]) => {
    for (const d of deps(part)) if (!allowed.includes(d)) out.push(`${part} imports ${d} (allowed: ${allowed.join(', ') || 'nothing'})`);
  };
  only('model', []);
  only('policy', []);
  only('engine', ['model', 'policy']);
  only('sources', ['model', 'log.js', 'config.js']);
  for (const server of SERVERS)
    for (const d of deps(server))
      if (d === 'sources' || d === 'cli') out.push(`${server} imports ${d} (servers never import sources or the CLI)`);
  return out;
}

/** Edges a → b that close a cycle (b reaches a): the back-edges of the part graph. */
function backEdges(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set([from]);
    const stack = [from];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x === to) return true;
      for (const y of graph.get(x) ?? []) {
        if (seen.has(y)) continue;
        seen.add(y);
        stack.push(y);
      }
    }
    return false;
  };
  const out: string[] = [];
  for (const [a, deps] of graph) for (const b of deps) if (reaches(b, a)) out.push(`${a} → ${b}`);
  return out.sort();
}

const productionFiles = () =>
  sourceFiles(SRC)
    .filter((f) => !f.endsWith('.test.ts'))
    .map((file) => ({ file, text: readFileSync(file, 'utf8') }));

test('src/ follows the dependency direction docs/architecture.md states', () => {
  const graph = partGraph(productionFiles());
  assert.ok(graph.get('engine')?.has('policy') && graph.get('xds')?.has('engine'), 'the graph was read (engine → policy, xds → engine)');
  assert.deepEqual(directionViolations(graph), []);
});

test('the direction check catches a planted violation (it can fail)', () => {
  const planted = [
    ...productionFiles(),
    { file: join(SRC, 'model', 'planted.ts'), text: "import { XdsServer } from '../xds/server/xds-server.js';" },
    { file: join(SRC, 'lrs', 'planted.ts'), text: "import { FileTopologySource } from '../sources/file.js';" },
  ];
  assert.deepEqual(directionViolations(partGraph(planted)), [
    'model imports xds (allowed: nothing)',
    'lrs imports sources (servers never import sources or the CLI)',
  ]);
});

test('no import cycles between the parts of src/ (no back-edges)', () => {
  assert.deepEqual(backEdges(partGraph(productionFiles())), []);
  const planted = [...productionFiles(), { file: join(SRC, 'sim', 'planted.ts'), text: "import { x } from '../emulator/scenario.js';" }];
  assert.deepEqual(backEdges(partGraph(planted)), ['emulator → sim', 'sim → emulator'], 'a planted cycle is found (the check can fail)');
});
