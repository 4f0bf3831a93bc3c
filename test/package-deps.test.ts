/**
 * package.json against the code: every npm package that src/ and test/ import is declared (src/
 * production code in `dependencies`; tests, src/**\/*.test.ts included, in either list), and every
 * declared package is used somewhere: imported by src/, test/, loadtest/ or eslint.config.js, run as a
 * command by an npm script or a .ci script (through the `bin` names its installed package.json
 * declares), or, for `@types/X`, X imported or listed in a tsconfig's `types`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { packageRoot } from '../src/cli/paths.js';
import { importedPackages, moduleSpecifiers, packageName, sourceFiles } from './repo-imports.js';

const ROOT = packageRoot();

/**
 * Declared but not used yet, on purpose. Each entry says who removes it and when; the test fails
 * when an entry becomes used (so the list cannot go stale) or is no longer declared.
 */
const DECLARED_UNUSED_ALLOWED: ReadonlyMap<string, string> = new Map<string, string>([]);

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  bin?: string | Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const pkg = readJson<PackageJson>(join(ROOT, 'package.json'));
const prod = new Set(Object.keys(pkg.dependencies ?? {}));
const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
const rel = (p: string) => relative(ROOT, p);

const srcFiles = sourceFiles(join(ROOT, 'src'));
const srcProduction = srcFiles.filter((f) => !f.endsWith('.test.ts'));
const testFiles = [...sourceFiles(join(ROOT, 'test')), ...srcFiles.filter((f) => f.endsWith('.test.ts'))];
const otherFiles = [...sourceFiles(join(ROOT, 'loadtest')), join(ROOT, 'eslint.config.js')];

/** The bin names an installed package declares (`bin` as a string means the package's own name). */
function binNames(name: string): string[] {
  const path = join(ROOT, 'node_modules', name, 'package.json');
  if (!existsSync(path)) return [];
  const bin = readJson<PackageJson>(path).bin;
  if (bin === undefined) return [];
  return typeof bin === 'string' ? [name.split('/').pop() ?? name] : Object.keys(bin);
}

/** Command words of the npm scripts and the .ci shell scripts. */
function commandWords(): Set<string> {
  const texts = Object.values(pkg.scripts ?? {});
  const ci = join(ROOT, '.ci');
  if (existsSync(ci)) for (const f of readdirSync(ci)) texts.push(readFileSync(join(ci, f), 'utf8'));
  const words = new Set<string>();
  for (const text of texts) for (const w of text.split(/[\s;&|()$"'`]+/)) if (w) words.add(w);
  return words;
}

/** `types` entries of the repository's tsconfig files (JSON with comments). */
function tsconfigTypes(): string[] {
  const types: string[] = [];
  for (const file of ['tsconfig.json', 'loadtest/tsconfig.json']) {
    const { config, error } = ts.readConfigFile(join(ROOT, file), ts.sys.readFile);
    assert.equal(error, undefined, `${file} parses`);
    types.push(...((config as { compilerOptions?: { types?: string[] } }).compilerOptions?.types ?? []));
  }
  return types;
}

/** The declared packages nothing uses, given what is imported, run and typed. */
function unusedDeclared(
  declared: Iterable<string>,
  imported: ReadonlySet<string>,
  commands: ReadonlySet<string>,
  typesListed: readonly string[],
  bins: (name: string) => string[],
): string[] {
  return [...declared].filter((name) => {
    if (imported.has(name)) return false;
    if (bins(name).some((b) => commands.has(b))) return false;
    if (name.startsWith('@types/')) {
      const typed = name.slice('@types/'.length);
      if (imported.has(typed) || typesListed.includes(typed)) return false;
    }
    return true;
  });
}

test('the import collector sees every import form and names packages correctly (fixture)', () => {
  const text = [
    "import a from 'pkg-a';",
    "import type { B } from '@scope/b/sub/path.js';",
    "import 'side-effect';",
    "export { c } from 'pkg-c';",
    "const d = await import('pkg-d');",
    'const e = await import(`@scope/e/${kind}`);',
    'const f = require("pkg-f/ext/x");',
    "type G = import('pkg-g').G;",
    "import { h } from './local.js';",
    "import { i } from 'node:fs';",
    "import j from 'path';",
    'const k = await import(`${dir}/x.js`);',
    'const spec = flag ? `@scope/l/${a}` : `pkg-m/${b}`;',
    'const n = await import(spec);',
  ].join('\n');
  const names = moduleSpecifiers(text)
    .map(packageName)
    .filter((n) => n !== undefined);
  assert.deepEqual(names, ['pkg-a', '@scope/b', 'side-effect', 'pkg-c', 'pkg-d', '@scope/e', 'pkg-f', 'pkg-g', '@scope/l', 'pkg-m']);
});

test('the unused check flags a declared package nothing uses and accepts the ways a package is used (fixture)', () => {
  const bins = (n: string) => (n === 'tool' ? ['tool-cli'] : []);
  const unused = unusedDeclared(
    ['imported', 'tool', '@types/typed', '@types/listed', '@types/unlisted', 'planted-unused'],
    new Set(['imported', 'typed']),
    new Set(['tool-cli']),
    ['listed'],
    bins,
  );
  assert.deepEqual(unused, ['@types/unlisted', 'planted-unused']);
});

test('every package src/ imports is in dependencies', () => {
  const missing = [...importedPackages(srcProduction)]
    .filter(([name]) => !prod.has(name))
    .map(([name, files]) => `${name} (${dev.has(name) ? 'only in devDependencies' : 'not declared'}; ${files.map(rel).join(', ')})`);
  assert.deepEqual(missing, [], 'production code imports packages package.json does not declare as dependencies');
});

test('every package the tests import is declared', () => {
  const missing = [...importedPackages(testFiles)]
    .filter(([name]) => !prod.has(name) && !dev.has(name))
    .map(([name, files]) => `${name} (${files.map(rel).join(', ')})`);
  assert.deepEqual(missing, []);
});

test('every declared package is used (or on the commented allow-list)', () => {
  const imported = new Set(importedPackages([...srcFiles, ...testFiles, ...otherFiles]).keys());
  const unused = unusedDeclared([...prod, ...dev], imported, commandWords(), tsconfigTypes(), binNames);
  const allowed = [...DECLARED_UNUSED_ALLOWED.keys()];
  assert.deepEqual(
    unused.filter((n) => !DECLARED_UNUSED_ALLOWED.has(n)),
    [],
    'declared in package.json but used nowhere: remove them, or use them',
  );
  for (const name of allowed) {
    assert.ok(prod.has(name) || dev.has(name), `${name} is allow-listed as unused but no longer declared: drop the entry`);
    assert.ok(unused.includes(name), `${name} is allow-listed as unused but is used now: drop the entry`);
  }
});
