/**
 * The Debian tools and files the tests use as real peers, each with the package that provides it. Tests
 * that need one skip locally with the package's name and fail under CI (`process.env.CI`), where
 * `.ci/setup.sh` must have installed it; test/debian-peers.test.ts keeps this list, that script and
 * the packages' real file lists in step.
 */
import { existsSync } from 'node:fs';

export interface DebianPeer {
  readonly path: string;
  readonly pkg: string;
}

export const DEBIAN_PEERS = {
  python: { path: '/usr/bin/python3', pkg: 'python3-grpcio' },
  protoc: { path: '/usr/bin/protoc', pkg: 'protobuf-compiler' },
  protobufIncludes: { path: '/usr/include/google/protobuf/descriptor.proto', pkg: 'libprotobuf-dev' },
  prometheus: { path: '/usr/bin/prometheus', pkg: 'prometheus' },
  promtool: { path: '/usr/bin/promtool', pkg: 'prometheus' },
  chromium: { path: '/usr/bin/chromium', pkg: 'chromium' },
  ip: { path: '/sbin/ip', pkg: 'iproute2' },
  openssl: { path: '/usr/bin/openssl', pkg: 'openssl' },
} as const satisfies Record<string, DebianPeer>;

/** Why these peers cannot be used here ("… not found (Debian pkg)"), or undefined when all exist. */
export function missingPeers(...peers: readonly DebianPeer[]): string | undefined {
  const absent = peers.filter((p) => !existsSync(p.path));
  return absent.length ? absent.map((p) => `${p.path} not found (Debian ${p.pkg})`).join('; ') : undefined;
}
