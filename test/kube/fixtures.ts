/* eslint-disable @typescript-eslint/no-explicit-any -- test code walks untyped Kubernetes JSON */
/** Loads the YAML fixtures (multi-document) in test/kube/fixtures. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { ClusterObjects } from '../../src/sources/kubernetes/translate.js';

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

/** Later objects replace earlier ones of the same kind, namespace and name (a file that overrides another). */
export function latestByName(objects: readonly Record<string, any>[]): Record<string, any>[] {
  const byName = new Map<string, Record<string, any>>();
  for (const o of objects) byName.set(`${o['kind']}/${o['metadata']?.['namespace']}/${o['metadata']?.['name']}`, o);
  return [...byName.values()];
}

/** ClusterObjects whose lists hold the recorded plain objects (tests read and edit them). */
export type RecordedCluster = { readonly [K in keyof ClusterObjects]-?: Record<string, any>[] };

/** Objects sorted into the lists `translateCluster` reads, by kind. */
export function clusterObjects(all: readonly Record<string, any>[]): RecordedCluster {
  const of = (kind: string) => all.filter((o) => o['kind'] === kind);
  return {
    nodes: of('Node'),
    services: of('Service'),
    endpointSlices: of('EndpointSlice'),
    revisions: of('Revision'),
    ingresses: of('Ingress'),
    serverlessServices: of('ServerlessService'),
    deployments: of('Deployment'),
    secrets: of('Secret'),
    configMaps: of('ConfigMap'),
  };
}
