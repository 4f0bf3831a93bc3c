import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_INCLUDE_DIRS } from '../protos/envoy.js';

/** proxima.probe.v1 (protos/proxima/probe/v1/probe.proto) as plain TypeScript shapes and a gRPC service. */

export const PROBE_PROTO_FILE = 'proxima/probe/v1/probe.proto';
export const PROBE_SERVICE_PATH = '/proxima.probe.v1.ProbeService/Connect';

export interface HelloMsg {
  node?: string;
  probe_address?: string;
  version?: string;
}

export interface RttRowMsg {
  peer?: string;
  rtt_ms?: number;
  p90_ms?: number;
  loss_ratio?: number;
  reachable?: boolean;
  /** uint64/int64 arrive as strings (longs: String); numbers are accepted when sending. */
  samples?: string | number;
  measured_at_unix_ms?: string | number;
  tcp_connect_ms?: number;
}

export interface PodSignalRowMsg {
  service?: string;
  pods?: number;
  pods_failed?: number;
  request_rps?: number;
  concurrency?: number;
  request_latency_ms?: number;
  app_latency_ms?: number;
  queue_depth?: number;
  window_request_latency_ms?: number;
  latency_source?: string;
  measured_at_unix_ms?: string | number;
  window_request_rps?: number;
}

export interface ReportMsg {
  node?: string;
  rows?: RttRowMsg[];
  sent_at_unix_ms?: string | number;
  pod_signals?: PodSignalRowMsg[];
}

export interface AgentMsg {
  hello?: HelloMsg | null;
  report?: ReportMsg | null;
  message?: 'hello' | 'report';
}

export interface PeerMsg {
  name?: string;
  probe_address?: string;
}

export interface PeerListMsg {
  peers?: PeerMsg[];
  interval_ms?: number;
  version?: string;
}

export interface ScrapeTargetMsg {
  service?: string;
  pod?: string;
  host?: string;
  autometric_port?: number;
  usermetric_port?: number;
}

export interface ScrapeTargetsMsg {
  targets?: ScrapeTargetMsg[];
  version?: string;
}

export interface ControlMsg {
  peers?: PeerListMsg | null;
  scrape_targets?: ScrapeTargetsMsg | null;
  message?: 'peers' | 'scrape_targets';
}

export type ProbeStreamClient = grpc.ClientDuplexStream<AgentMsg, ControlMsg>;
export interface ProbeServiceClient extends grpc.Client {
  Connect(options?: grpc.CallOptions): ProbeStreamClient;
}

interface ProbeProtos {
  readonly service: grpc.ServiceDefinition;
  readonly Client: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => ProbeServiceClient;
}

let cached: ProbeProtos | undefined;

export function probeProtos(): ProbeProtos {
  if (cached) return cached;
  const def = protoLoader.loadSync(PROBE_PROTO_FILE, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [...PROTO_INCLUDE_DIRS],
  });
  const obj = grpc.loadPackageDefinition(def) as unknown as {
    proxima: { probe: { v1: { ProbeService: grpc.ServiceClientConstructor } } };
  };
  const ctor = obj.proxima.probe.v1.ProbeService;
  cached = { service: ctor.service, Client: ctor as unknown as ProbeProtos['Client'] };
  return cached;
}
