/**
 * Which npm packages the repository's code imports, read with the TypeScript parser (not a regex):
 * static imports and re-exports, `import type`, side-effect imports, dynamic `import()` (a string
 * or the literal head of a template), `import('x')` types and `require('x')`. Used by
 * test/package-deps.test.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * Every module specifier in one source text. A template literal yields its literal head; a
 * dynamic `import(x)` of a const yields what the const's initializer can evaluate to (both arms of
 * a conditional), so `import(spec)` with `const spec = c ? \`a/${x}\` : \`b/${y}\`` names a and b.
 */
export function moduleSpecifiers(sourceText: string, fileName = 'file.ts'): string[] {
  const source = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.ES2022, true);
  const constInitializers = new Map<string, ts.Expression>();
  const collectConsts = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      constInitializers.set(node.name.text, node.initializer);
    }
    ts.forEachChild(node, collectConsts);
  };
  collectConsts(source);
  const literalTexts = (node: ts.Node | undefined, depth = 0): string[] => {
    if (!node || depth > 4) return [];
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
    if (ts.isTemplateExpression(node)) return [node.head.text];
    if (ts.isParenthesizedExpression(node)) return literalTexts(node.expression, depth + 1);
    if (ts.isConditionalExpression(node)) return [...literalTexts(node.whenTrue, depth + 1), ...literalTexts(node.whenFalse, depth + 1)];
    if (ts.isIdentifier(node)) return literalTexts(constInitializers.get(node.text), depth + 1);
    return [];
  };
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      found.push(...literalTexts(node.moduleSpecifier));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      found.push(...literalTexts(node.moduleReference.expression));
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      found.push(...literalTexts(node.argument.literal));
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isImport || isRequire) found.push(...literalTexts(node.arguments[0]));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The npm package a specifier names, or undefined for relative paths, absolute paths, URLs,
 * Node builtins (`node:fs`, `fs`) and template heads too short to name a package (`${dir}/x.js`).
 */
export function packageName(specifier: string): string | undefined {
  if (specifier === '' || specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  if (/^[a-z]+:/i.test(specifier)) return undefined;
  const parts = specifier.split('/');
  if (builtinModules.includes(parts[0] ?? '')) return undefined;
  if (specifier.startsWith('@')) {
    // A scoped name needs both segments complete: "@scope/name" or "@scope/name/...".
    if (parts.length < 2 || !parts[1]) return undefined;
    return `${parts[0]}/${parts[1]}`;
  }
  return parts[0];
}

/** Source files (.ts, .js, .mjs, .cjs; no .d.ts) under a directory, recursively; skips node_modules and dist. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('dist')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|mjs|cjs)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/** Package name → files importing it, over the given files. */
export function importedPackages(files: readonly string[]): Map<string, string[]> {
  const byPackage = new Map<string, string[]>();
  for (const file of files) {
    for (const spec of moduleSpecifiers(readFileSync(file, 'utf8'), file)) {
      const name = packageName(spec);
      if (name === undefined) continue;
      const list = byPackage.get(name) ?? [];
      if (!list.includes(file)) list.push(file);
      byPackage.set(name, list);
    }
  }
  return byPackage;
}
