/**
 * Test certificates made at test time with the `openssl` CLI (Debian package `openssl`): a CA,
 * server certificates for 127.0.0.1/localhost, and client certificates with a URI SAN. Nothing is
 * committed; every call writes into a fresh temporary directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestCa extends CertPair {
  /** A certificate signed by this CA: `uri` and `dns` become SANs (a server gets IP:127.0.0.1 too). */
  issue(name: string, sans: { uri?: string[]; dns?: string[]; ip?: string[] }): CertPair;
}

/** Why openssl cannot be used here, or undefined when it can. */
export function opensslUnavailable(): string | undefined {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'the openssl CLI is missing (Debian package openssl)';
}

/** Skip locally with a message when openssl is missing; fail under CI. */
export function requireOpenssl(t: { skip(msg: string): void }): boolean {
  const why = opensslUnavailable();
  if (!why) return true;
  if (process.env.CI) throw new Error(`required in CI: ${why}`);
  t.skip(why);
  return false;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A fresh CA in its own directory; `cleanup()` removes every file it made. */
export function makeCa(name = 'proxima-test-ca'): TestCa & { readonly dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'proxima-certs-'));
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC, '-days', '2', '-subj', `/CN=${name}`, '-keyout', keyPath, '-out', certPath]);
  let serial = 1;
  const issue = (leaf: string, sans: { uri?: string[]; dns?: string[]; ip?: string[] }): CertPair => {
    const sub = join(dir, `${leaf}-${serial}`);
    mkdirSync(sub);
    const csr = join(sub, 'req.csr');
    const key = join(sub, 'tls.key');
    const crt = join(sub, 'tls.crt');
    const ext = join(sub, 'ext.cnf');
    const alt = [
      ...(sans.uri ?? []).map((u) => `URI:${u}`),
      ...(sans.dns ?? []).map((d) => `DNS:${d}`),
      ...(sans.ip ?? []).map((i) => `IP:${i}`),
    ];
    writeFileSync(ext, `subjectAltName=${alt.join(',')}\nbasicConstraints=CA:FALSE\n`);
    openssl(['req', '-new', ...EC, '-subj', `/CN=${leaf}`, '-keyout', key, '-out', csr]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      certPath,
      '-CAkey',
      keyPath,
      '-set_serial',
      String(serial++),
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      crt,
    ]);
    return { certPath: crt, keyPath: key, cert: readFileSync(crt), key: readFileSync(key) };
  };
  return {
    dir,
    certPath,
    keyPath,
    cert: readFileSync(certPath),
    key: readFileSync(keyPath),
    issue,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The SPIFFE id of a node in the default trust domain. */
export const nodeId = (node: string, trustDomain = 'cluster.local'): string => `spiffe://${trustDomain}/node/${node}`;

/**
 * A directory laid out as kubelet lays out a Secret volume: `tls.crt` → `..data/tls.crt`, with
 * `..data` a symlink to a timestamped directory that `publish` replaces atomically (rename of a new
 * symlink over the old one), as kubelet and cert-manager rotations do.
 */
export function secretMount(dir: string): {
  readonly certPath: string;
  readonly keyPath: string;
  readonly caPath: string;
  publish(f: { cert: Buffer; key: Buffer; ca?: Buffer }): void;
} {
  mkdirSync(dir, { recursive: true });
  let n = 0;
  const publish = (f: { cert: Buffer; key: Buffer; ca?: Buffer }): void => {
    const ts = join(dir, `..${Date.now()}_${n++}`);
    mkdirSync(ts);
    writeFileSync(join(ts, 'tls.crt'), f.cert);
    writeFileSync(join(ts, 'tls.key'), f.key);
    if (f.ca) writeFileSync(join(ts, 'ca.crt'), f.ca);
    const tmp = join(dir, '..data_tmp');
    rmSync(tmp, { force: true });
    symlinkSync(ts.slice(dir.length + 1), tmp);
    renameSync(tmp, join(dir, '..data'));
    for (const name of ['tls.crt', 'tls.key', 'ca.crt']) {
      try {
        symlinkSync(join('..data', name), join(dir, name));
      } catch {
        // already linked through ..data
      }
    }
  };
  return { certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key'), caPath: join(dir, 'ca.crt'), publish };
}
