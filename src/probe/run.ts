import { Registry } from 'prom-client';
import type { ListenAddress } from '../config.js';
import type { Logger } from '../log.js';
import { grpcClientCredentials, type ClientTlsFiles } from '../tls/client-credentials.js';
import { ProbeAgent } from './agent.js';
import type { ScrapeTarget } from './queue-proxy/scraper.js';

/** Queue-proxy scraping of the agent's node (`--queue-proxy-*`). */
export interface QueueProxyScrapeOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
  /** The pods' latency window (default 10 s, FaaSt's). */
  readonly windowMs?: number;
  /** Fixed targets (the demo's emulator); otherwise the control plane names them. */
  readonly targets?: readonly ScrapeTarget[];
}

/** Typed `proxima probe` options (from flags/env via PROBE_SPEC, or built directly by tests and the demo). */
export interface ProbeOptions {
  readonly node: string;
  readonly controlPlane: string;
  readonly listen: ListenAddress;
  readonly advertise?: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly maxPeers: number;
  readonly nearRttMs: number;
  readonly adminListen?: ListenAddress;
  /** TLS to the control plane (CA, and client certificate for mutual TLS). */
  readonly tls?: ClientTlsFiles;
  /** Name the control plane's certificate must carry when it differs from --control-plane's host. */
  readonly tlsServerName?: string;
  /** Absent: no queue-proxy scraping. */
  readonly queueProxy?: QueueProxyScrapeOptions;
}

/** Start the agent; resolves once listeners are bound (the agent keeps running until close()). */
export async function runProbe(options: ProbeOptions, log: Logger, registry = new Registry()): Promise<ProbeAgent> {
  const agent = new ProbeAgent({
    node: options.node,
    controlPlane: options.controlPlane,
    listen: options.listen,
    ...(options.advertise ? { advertiseAddress: options.advertise } : {}),
    ...(options.adminListen ? { adminListen: options.adminListen } : {}),
    intervalMs: options.intervalMs,
    timeoutMs: options.timeoutMs,
    maxPeers: options.maxPeers,
    nearRttMs: options.nearRttMs,
    ...(options.queueProxy ? { queueProxy: options.queueProxy } : {}),
    log,
    registry,
    credentials: grpcClientCredentials(options.tls),
    ...(options.tlsServerName ? { channelOptions: { 'grpc.ssl_target_name_override': options.tlsServerName } } : {}),
  });
  await agent.start();
  return agent;
}
