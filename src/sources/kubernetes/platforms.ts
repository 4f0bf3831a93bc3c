/**
 * Everything besides Knative: plain Services that opted in (services.ts) and OpenFaaS functions
 * (openfaas.ts), translated from the same informer caches. A Service is one or the other: a
 * function (or the OpenFaaS gateway) is never also a plain Service. Pure.
 */
import type { NodeInfo } from '../../model/types.js';
import { isFunctionService, translateOpenFaas, type OpenFaasOptions } from './openfaas.js';
import {
  addStats,
  serviceShapeOf,
  slicesByService,
  translatePlainServices,
  type ServiceShape,
  type WorkloadTranslation,
} from './services.js';
import { PodTemplates } from './workloads.js';

export interface PlatformObjects {
  readonly services: readonly unknown[];
  readonly endpointSlices: readonly unknown[];
  readonly deployments: readonly unknown[];
}

export interface PlatformOptions {
  readonly nodes: readonly NodeInfo[];
  readonly defaultCapacity: number;
  /** OpenFaaS functions are translated only when set. */
  readonly openfaas?: OpenFaasOptions;
}

export function translatePlatforms(objs: PlatformObjects, opts: PlatformOptions): WorkloadTranslation {
  const shapes = objs.services.map(serviceShapeOf).filter((s): s is ServiceShape => s !== undefined);
  const ctx = {
    slicesByService: slicesByService(objs.endpointSlices),
    nodes: opts.nodes,
    templates: new PodTemplates(objs.deployments),
    defaultCapacity: opts.defaultCapacity,
  };
  const of = opts.openfaas;
  const faas = of ? translateOpenFaas(shapes, ctx, of) : undefined;
  const plain = translatePlainServices(of ? shapes.filter((s) => !isFunctionService(s, of) && s.key !== of.gateway) : shapes, ctx);
  if (!faas) return plain;
  return {
    services: [...plain.services, ...faas.services],
    routes: [...plain.routes, ...faas.routes],
    reports: [...plain.reports, ...faas.reports],
    stats: addStats(plain.stats, faas.stats),
  };
}
