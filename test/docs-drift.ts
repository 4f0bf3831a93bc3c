/**
 * Pure checks of documentation text against what the code defines, used by test/docs-drift.test.ts.
 * Each takes the markdown and the known names and returns the problems as `file:line: message`.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface Doc {
  /** Path relative to the repository root. */
  readonly file: string;
  readonly text: string;
}

/** The subcommands whose flags the docs must get right. */
export const SUBCOMMANDS = ['serve', 'probe', 'demo', 'closed-loop'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

const FLAG = /(?<![\w-])--([a-z][a-z0-9_-]*)/g;

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Logical lines: shell continuations (`\` at the end) joined, with the 1-based line each starts on. */
function logicalLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    let t = raw[i]!;
    while (t.endsWith('\\') && i + 1 < raw.length) t = t.slice(0, -1) + ' ' + raw[++i]!;
    out.push({ line: start + 1, text: t });
  }
  return out;
}

/**
 * Invocations of a Proxima subcommand and the flags given to it: `proxima serve …`,
 * `node dist/src/cli/main.js probe …`, `npm start -- …` (serve), `npm run demo -- …` (demo). The
 * command ends at the end of an inline code span, a pipe, `&&`, `;` or a shell comment.
 */
export function commandFlags(doc: Doc): Array<{ subcommand: Subcommand; flag: string; line: number }> {
  const out: Array<{ subcommand: Subcommand; flag: string; line: number }> = [];
  const invocation = /(?:\bproxima|main\.js)\s+(serve|probe|demo|closed-loop)(?![\w-])|\bnpm\s+(start|run\s+demo)\b/g;
  for (const { line, text } of logicalLines(doc.text)) {
    for (const m of text.matchAll(invocation)) {
      const subcommand = (m[1] ?? (m[2] === 'start' ? 'serve' : 'demo')) as Subcommand;
      const rest = text.slice(m.index + m[0].length);
      const end = rest.search(/`|\||&&|;|\s#/);
      const args = end < 0 ? rest : rest.slice(0, end);
      for (const f of args.matchAll(FLAG)) out.push({ subcommand, flag: f[1]!, line });
    }
  }
  return out;
}

/**
 * Flags given to a subcommand that its spec does not have. `known` maps each subcommand to its
 * option names (plus `help`).
 */
export function unknownCommandFlags(doc: Doc, known: ReadonlyMap<Subcommand, ReadonlySet<string>>): string[] {
  return commandFlags(doc)
    .filter((u) => !known.get(u.subcommand)?.has(u.flag))
    .map((u) => `${doc.file}:${u.line}: \`proxima ${u.subcommand}\` has no option --${u.flag}`);
}

/**
 * Every `--flag` anywhere in the doc must be an option of some Proxima subcommand, or a flag of
 * another tool listed in `foreign` (flag → the tool it belongs to).
 */
export function unknownFlags(doc: Doc, proximaFlags: ReadonlySet<string>, foreign: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const m of doc.text.matchAll(FLAG)) {
    const flag = m[1]!;
    if (proximaFlags.has(flag) || foreign.has(flag)) continue;
    out.push(`${doc.file}:${lineOf(doc.text, m.index)}: --${flag} is neither a Proxima option nor a known flag of another tool`);
  }
  return out;
}

/** `PROXIMA_*` names the doc mentions that are not in `known`. */
export function unknownEnvVars(doc: Doc, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const m of doc.text.matchAll(/\bPROXIMA_[A-Z0-9][A-Z0-9_]*\b/g)) {
    if (!known.has(m[0])) out.push(`${doc.file}:${lineOf(doc.text, m.index)}: ${m[0]} is not an env var or key Proxima defines`);
  }
  return out;
}

/**
 * `proxima_*` names the doc mentions that are not in `known` (metric names, k6 metric names and
 * xDS resource names). A name ending in `_` is a prefix and must start some known name.
 */
export function unknownProximaNames(doc: Doc, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const m of doc.text.matchAll(/\bproxima_[a-z0-9_]*[a-z0-9_]/g)) {
    const name = m[0];
    const ok = name.endsWith('_') ? [...known].some((k) => k.startsWith(name)) : known.has(name);
    if (!ok) out.push(`${doc.file}:${lineOf(doc.text, m.index)}: ${name} is not a metric or resource name the code defines`);
  }
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Anchors of every heading in a markdown text (outside code fences). */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const h = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (h) anchors.add(headingAnchor(h[1]!.replace(/`/g, '')));
  }
  return anchors;
}

/**
 * Relative links and images (`[x](path)`, `[x](path#anchor)`, `[x](#anchor)`) that do not resolve
 * to a file or directory inside the repository, or to a heading of the linked markdown file.
 * `readDoc` returns the text of a markdown file in the repository (for its anchors).
 */
export function brokenLinks(doc: Doc, root: string, readDoc: (repoPath: string) => string): string[] {
  const out: string[] = [];
  for (const m of doc.text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const where = `${doc.file}:${lineOf(doc.text, m.index)}`;
    const [path, anchor] = target.split('#', 2) as [string, string | undefined];
    const abs = path === '' ? join(root, doc.file) : resolve(root, dirname(doc.file), path);
    const rel = relative(root, abs);
    if (rel.startsWith('..') || rel.startsWith(sep)) {
      out.push(`${where}: ${target} points outside the repository`);
      continue;
    }
    if (!existsSync(abs)) {
      out.push(`${where}: ${target} does not exist`);
      continue;
    }
    if (anchor !== undefined && abs.endsWith('.md') && statSync(abs).isFile() && !anchorsOf(readDoc(rel)).has(anchor))
      out.push(`${where}: ${target}: no heading with anchor #${anchor} in ${rel}`);
  }
  return out;
}

/** Mentions of documents outside the repository: a `shared` folder beside it, or its design, reference and style notes. */
export function outsideReferences(doc: Doc): string[] {
  const out: string[] = [];
  for (const m of doc.text.matchAll(/(?<![\w.-])(?:\.\.\/)*shared\/|\b(?:DESIGN|REFERENCE|STYLE)\.md\b/g))
    out.push(`${doc.file}:${lineOf(doc.text, m.index)}: "${m[0]}" refers to a document outside the repository`);
  return out;
}

/** Rows of the rules table in manifests/rbac-notes.md as `group/resource:verb` triples. */
export function rbacTableRules(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !/^[a-z0-9."]/.test(cells[1]!) || cells[1] === 'API group' || /^-+$/.test(cells[1]!)) continue;
    const group = cells[1]!.startsWith('""') ? '' : cells[1]!;
    for (const verb of cells[3]!.split(',').map((v) => v.trim()))
      for (const resource of cells[2]!.split(',').map((r) => r.trim())) out.add(`${group}/${resource}:${verb}`);
  }
  return out;
}
