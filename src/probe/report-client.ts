import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import {
  probeProtos,
  type ControlMsg,
  type PeerListMsg,
  type ProbeServiceClient,
  type ProbeStreamClient,
  type ReportMsg,
  type ScrapeTargetsMsg,
} from './protocol.js';

export interface ReportClientOptions {
  /** Control plane `host:port`. */
  readonly target: string;
  readonly node: string;
  readonly probeAddress: string;
  readonly version: string;
  readonly log: Logger;
  readonly rng: () => number;
  readonly backoff?: BackoffOptions;
  /** A peer list arrived. */
  readonly onPeers: (list: PeerListMsg) => void;
  /** The control plane named the pods on this node to scrape. */
  readonly onScrapeTargets?: (list: ScrapeTargetsMsg) => void;
  /** The stream is up (first answer received) or went down. */
  readonly onConnected: (connected: boolean) => void;
  /** A (re)connection attempt starts. */
  readonly onAttempt?: () => void;
  /** How to reach the control plane (default plaintext). */
  readonly credentials?: grpc.ChannelCredentials;
  /** Extra channel options (e.g. grpc.ssl_target_name_override). */
  readonly channelOptions?: grpc.ChannelOptions;
}

/**
 * The agent's end of the report stream: says hello, hands peer lists to the agent, sends reports,
 * and reconnects with exponential back-off and jitter whenever the stream ends. Measuring goes on
 * regardless; reports made while disconnected are simply not sent (the agent resends its state).
 */
export class ReportClient {
  private readonly client: ProbeServiceClient;
  private call: ProbeStreamClient | undefined;
  private up = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: ReportClientOptions) {
    this.client = new (probeProtos().Client)(opts.target, opts.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 5000,
      ...opts.channelOptions,
    });
  }

  get connected(): boolean {
    return this.up;
  }

  start(): void {
    this.open();
  }

  /** Send a report if the stream is up; false when it was not sent. */
  send(report: ReportMsg): boolean {
    if (!this.call || !this.up) return false;
    this.call.write({ report });
    return true;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.call?.cancel();
    this.call = undefined;
    this.setUp(false);
    this.client.close();
  }

  private setUp(v: boolean): void {
    if (this.up === v) return;
    this.up = v;
    this.opts.onConnected(v);
  }

  private open(): void {
    if (this.closed) return;
    this.opts.onAttempt?.();
    const call = this.client.Connect();
    this.call = call;
    let ended = false;
    const end = (why: string, err?: unknown) => {
      if (ended) return;
      ended = true;
      if (this.call === call) this.call = undefined;
      this.setUp(false);
      if (this.closed) return;
      const delay = backoffDelayMs(this.attempt++, this.opts.rng, this.opts.backoff ?? DEFAULT_BACKOFF);
      this.opts.log.warn(
        { why, err: err instanceof Error ? err.message : err, retryInMs: Math.round(delay) },
        'probe: report stream down, reconnecting',
      );
      this.timer = setTimeout(() => this.open(), delay);
      this.timer.unref();
    };
    call.on('data', (msg: ControlMsg) => {
      this.attempt = 0;
      this.setUp(true);
      if (msg.peers) this.opts.onPeers(msg.peers);
      if (msg.scrape_targets) this.opts.onScrapeTargets?.(msg.scrape_targets);
    });
    call.on('error', (err) => end('error', err));
    call.on('end', () => end('ended'));
    call.on('status', (s: grpc.StatusObject) => end('status', s.details));
    call.write({ hello: { node: this.opts.node, probe_address: this.opts.probeAddress, version: this.opts.version } });
  }
}
