import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json lives), from src/cli or dist/src/cli. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The embedded default topology, used when `serve` gets neither --topology nor --kubernetes. */
export function defaultTopologyPath(): string {
  return resolve(packageRoot(), 'examples', 'topology.yaml');
}
