/**
 * A fresh machine gets exactly what .ci/setup.sh installs, with --no-install-recommends. These checks
 * keep the Debian peers the tests use (test/helpers/debian-peers.ts), the script's package list and
 * the packages' real file lists in step, so that no test depends on a package that happened to be on
 * the machine before (libprotobuf-dev once arrived only as a "Recommends" of protobuf-compiler).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_PEERS } from './helpers/debian-peers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SETUP = readFileSync(join(ROOT, '.ci', 'setup.sh'), 'utf8');

/** The entries of a bash array `name=( … )` in the script (comments stripped). */
export function bashArray(script: string, name: string): string[] {
  const m = new RegExp(`^${name}=\\(([\\s\\S]*?)^\\)`, 'm').exec(script) ?? new RegExp(`^${name}=\\(([^)]*)\\)`, 'm').exec(script);
  if (!m) return [];
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .flatMap((l) => l.split(/\s+/))
    .filter(Boolean);
}

const packages = bashArray(SETUP, 'packages');
const peerChecks = bashArray(SETUP, 'peers').map((e) => ({ path: e.slice(0, e.lastIndexOf(':')), pkg: e.slice(e.lastIndexOf(':') + 1) }));

test('bashArray reads multi-line arrays with comments (and would see a missing package)', () => {
  const script = 'packages=(\n  a   # the first\n  b\n)\nother=(x y)\n';
  assert.deepEqual(bashArray(script, 'packages'), ['a', 'b']);
  assert.deepEqual(bashArray(script, 'other'), ['x', 'y']);
  assert.deepEqual(bashArray(script, 'absent'), []);
});

test('setup.sh installs every package that provides a test peer, and checks each peer file after installing', () => {
  assert.ok(packages.length >= 5, `setup.sh package list not found: ${packages.join(' ')}`);
  assert.match(SETUP, /--no-install-recommends/);
  for (const peer of Object.values(DEBIAN_PEERS)) {
    assert.ok(packages.includes(peer.pkg), `${peer.path} comes from ${peer.pkg}, which .ci/setup.sh does not install`);
    assert.ok(
      peerChecks.some((c) => c.path === peer.path && c.pkg === peer.pkg),
      `.ci/setup.sh does not check ${peer.path}:${peer.pkg} after installing`,
    );
  }
});

test('every absolute Debian path the tests and sources open is a listed peer', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|py)$/.test(e)) files.push(p);
    }
  };
  walk(join(ROOT, 'test'));
  walk(join(ROOT, 'src'));
  const known = Object.values(DEBIAN_PEERS).map((p) => p.path);
  const allowed = new Set([...known, '/usr/bin/node', '/usr/bin/env', '/usr/include']);
  const unlisted = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/['"`](\/usr\/(?:s?bin|include|share|lib)\/[\w./+-]*)['"`]/g)) {
      const path = m[1]!;
      if (!allowed.has(path) && !known.some((k) => k.startsWith(path + '/'))) unlisted.add(`${path} (${f.slice(ROOT.length + 1)})`);
    }
  }
  assert.deepEqual([...unlisted], [], 'add these to test/helpers/debian-peers.ts and .ci/setup.sh');
});

test('each peer file really belongs to the package named for it (dpkg -S)', (t) => {
  if (spawnSync('dpkg', ['--version']).status !== 0) return t.skip('not a Debian machine');
  const missing = Object.values(DEBIAN_PEERS).filter((p) => !existsSync(p.path));
  if (missing.length) {
    const what = missing.map((p) => `${p.path} (${p.pkg})`).join(', ');
    if (process.env['CI']) assert.fail(`missing under CI: ${what}`);
    return t.skip(`not installed here: ${what}`);
  }
  for (const peer of Object.values(DEBIAN_PEERS)) {
    // dpkg knows a file by the path its package ships, which may sit behind a symlink (/usr/sbin/ip → /bin/ip).
    const owners = [peer.path, realpathSync(peer.path)].flatMap((p) => {
      const r = spawnSync('dpkg', ['-S', p], { encoding: 'utf8' });
      return r.status === 0 ? r.stdout.split('\n').flatMap((l) => l.split(':')[0]!.split(', ')) : [];
    });
    if (peer.pkg === 'python3-grpcio') {
      // The interpreter belongs to python3; what the peer needs from python3-grpcio is its module.
      const r = spawnSync(peer.path, ['-c', 'import grpc; print(grpc.__file__)'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const owner = spawnSync('dpkg', ['-S', r.stdout.trim()], { encoding: 'utf8' }).stdout;
      assert.match(owner, /^python3-grpcio:/, `grpc module ${r.stdout.trim()} is not from python3-grpcio`);
      continue;
    }
    assert.ok(owners.includes(peer.pkg), `${peer.path} belongs to ${owners.join(', ') || 'no package'}, not ${peer.pkg}`);
  }
});
