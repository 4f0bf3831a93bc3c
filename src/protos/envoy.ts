import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/**
 * Envoy's API protos, loaded once from the copy that ships inside @grpc/grpc-js-xds (deps/), into one
 * protobufjs root (for encoding resources once, as `Any` values) and one gRPC package (for services).
 */

const require = createRequire(import.meta.url);
const xdsPackageDir = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
const here = dirname(fileURLToPath(import.meta.url));

/** Include directories, in lookup order. */
export const PROTO_INCLUDE_DIRS: readonly string[] = [
  join(xdsPackageDir, 'deps', 'envoy-api'),
  join(xdsPackageDir, 'deps', 'xds'),
  join(xdsPackageDir, 'deps', 'googleapis'),
  join(xdsPackageDir, 'deps', 'protoc-gen-validate'),
  // Proxima's own protos (probe reports), from src/protos or dist/src/protos.
  resolve(here, '..', '..', 'protos'),
  resolve(here, '..', '..', '..', 'protos'),
];

/** Every Envoy proto file Proxima uses; each pulls in its imports. */
export const ENVOY_PROTO_FILES: readonly string[] = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/cluster/v3/cds.proto',
  'envoy/service/endpoint/v3/eds.proto',
  'envoy/service/listener/v3/lds.proto',
  'envoy/service/route/v3/rds.proto',
  'envoy/service/load_stats/v3/lrs.proto',
  'envoy/service/ext_proc/v3/external_processor.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto',
  // Served to gateways that opt into ext_proc picking (strips client-sent x-proxima-* headers).
  'envoy/extensions/http/early_header_mutation/header_mutation/v3/header_mutation.proto',
  'envoy/extensions/filters/http/health_check/v3/health_check.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  // config-kourier tracing-*: the OpenTelemetry tracer net-kourier configures.
  'envoy/config/trace/v3/opentelemetry.proto',
  // config-kourier extauthz-*.
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  // Kourier-compatible HTTPS listeners: SNI needs tls_inspector; config-kourier enable-proxy-protocol.
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/proxy_protocol/v3/proxy_protocol.proto',
  'envoy/service/secret/v3/sds.proto',
  'envoy/extensions/clusters/dynamic_forward_proxy/v3/cluster.proto',
];

/** proto-loader options used everywhere: field names as in the .proto files. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: [...PROTO_INCLUDE_DIRS],
};

function resolveInclude(_origin: string, target: string): string {
  if (existsSync(target)) return target;
  for (const dir of PROTO_INCLUDE_DIRS) {
    const candidate = join(dir, target);
    if (existsSync(candidate)) return candidate;
  }
  return target; // protobufjs resolves google/protobuf/* from its bundled copies
}

export interface EnvoyProtos {
  /** protobufjs root holding every loaded message type. */
  readonly root: protobuf.Root;
  /** gRPC object (grpc.loadPackageDefinition) for service definitions and clients. */
  readonly grpc: grpc.GrpcObject;
  /** Look up a message type by full name (no leading dot); throws when unknown. */
  type(fullName: string): protobuf.Type;
}

let cached: EnvoyProtos | undefined;

/** Load (once per process) and return Envoy's protos plus any extra files (e.g. Proxima's own). */
export function envoyProtos(): EnvoyProtos {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = resolveInclude;
  root.loadSync([...ENVOY_PROTO_FILES], { keepCase: true });
  root.resolveAll();
  const packageDefinition = protoLoader.fromJSON(root.toJSON(), PROTO_LOADER_OPTIONS);
  const grpcObject = grpc.loadPackageDefinition(packageDefinition);
  const types = new Map<string, protobuf.Type>();
  cached = {
    root,
    grpc: grpcObject,
    type(fullName: string): protobuf.Type {
      let t = types.get(fullName);
      if (!t) {
        t = root.lookupType(fullName);
        types.set(fullName, t);
      }
      return t;
    },
  };
  return cached;
}

/** Walk a dotted path in a gRPC object, e.g. `envoy.service.discovery.v3.AggregatedDiscoveryService`. */
export function grpcLookup<T>(obj: grpc.GrpcObject, path: string): T {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    cur = (cur as Record<string, unknown> | undefined)?.[part];
    if (cur === undefined) throw new Error(`gRPC object has no ${path}`);
  }
  return cur as T;
}
