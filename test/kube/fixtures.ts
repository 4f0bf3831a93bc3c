/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/** Loads the YAML fixtures (multi-document) in test/kube/fixtures. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

// Compiled to dist-*/test/kube: the YAML stays in the source tree.
const here = dirname(fileURLToPath(import.meta.url));
const candidates = [join(here, 'fixtures'), join(here, '..', '..', '..', 'test', 'kube', 'fixtures')];

export function fixtureDir(): string {
  for (const c of candidates) {
    try {
      readFileSync(join(c, 'nodes.yaml'));
      return c;
    } catch {
      /* try the next */
    }
  }
  throw new Error(`fixtures not found in ${candidates.join(', ')}`);
}

/** Every document of a fixture file, as plain objects. */
export function loadFixture(file: string): Record<string, any>[] {
  const text = readFileSync(join(fixtureDir(), file), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Record<string, any> | null)
    .filter((d): d is Record<string, any> => d !== null);
}

/** Objects the source reads (drops the ksvc, which is there for reference). */
export function loadObjects(file: string): Record<string, any>[] {
  return loadFixture(file).filter((o) => !(o['apiVersion'] === 'serving.knative.dev/v1' && o['kind'] === 'Service'));
}
