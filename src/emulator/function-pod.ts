import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ConcurrencyGate } from './concurrency.js';
import { lognormal, sigmaForCv, type Rng } from '../util/rng.js';
import { rawUnaryService } from '../util/grpc-raw.js';
import { QueueProxyMeter } from './queue-proxy-meter.js';

/** The gRPC method every emulated function serves (raw JSON bytes, no generated code needed). */
export const FUNCTION_METHOD = '/proxima.demo.v1.Function/Invoke';

export interface FunctionPodOptions {
  readonly name: string;
  readonly node: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly protocol: 'http' | 'grpc';
  /** containerConcurrency; 0 = unlimited. */
  readonly concurrency: number;
  /** Mean service time in ms and its coefficient of variation (lognormal). */
  readonly serviceTimeMs: number;
  readonly serviceTimeCv: number;
  /** gRPC method path served (default FUNCTION_METHOD). */
  readonly method?: string;
  readonly rng: Rng;
  /** The revision this pod belongs to (`namespace/name`), for its queue-proxy metric labels. */
  readonly service?: string;
  /** The queue-proxy Stat's averaging window (Knative: 1 s, the default); shorter on a faster clock. */
  readonly statWindowMs?: number;
}

const epochMs = (): number => performance.timeOrigin + performance.now();

/** What every response carries, so the load generator knows where and how the request was served. */
export interface FunctionReply {
  readonly pod: string;
  readonly node: string;
  readonly queuedMs: number;
  readonly serviceMs: number;
}

/**
 * An emulated function pod: a server with a concurrency limit (queueing beyond it) and a
 * service-time distribution, answering with its identity. It can be stopped and started again on
 * the same port (a pod dying and coming back).
 */
export class FunctionPod {
  private readonly gate: ConcurrencyGate;
  private http: HttpServer | undefined;
  private grpcServer: grpc.Server | undefined;
  private boundPort = 0;
  served = 0;
  /** What this pod's queue-proxy measures (served on Knative's metric ports by the node host). */
  readonly meter: QueueProxyMeter;

  constructor(readonly opts: FunctionPodOptions) {
    this.gate = new ConcurrencyGate(opts.concurrency);
    const [namespace, service] = (opts.service ?? `default/${opts.name}`).split('/', 2) as [string, string?];
    const name = service ?? namespace;
    this.meter = new QueueProxyMeter(
      { namespace: service ? namespace : 'default', service: name, revision: `${name}-00001`, pod: opts.name },
      epochMs(),
      opts.statWindowMs,
    );
  }

  get port(): number {
    return this.boundPort;
  }

  get inFlight(): number {
    return this.gate.inFlight;
  }

  /** Requests running or queued in the pod. */
  get busy(): number {
    return this.gate.inFlight + this.gate.queued;
  }

  get running(): boolean {
    return Boolean(this.http || this.grpcServer);
  }

  private async handle(): Promise<FunctionReply> {
    const arrived = performance.now();
    this.meter.arrived(epochMs());
    const slot = await this.gate.acquire(arrived);
    this.meter.started(epochMs());
    const serviceMs = lognormal(this.opts.rng, this.opts.serviceTimeMs, sigmaForCv(this.opts.serviceTimeCv));
    // The service ends `serviceMs` after the slot was taken (see ConcurrencyGate): a late timer
    // delays this reply, not the requests queued behind it.
    const endMs = slot.startedMs + serviceMs;
    const leftMs = endMs - performance.now();
    if (leftMs > 0) await new Promise((r) => setTimeout(r, leftMs));
    slot.release(endMs);
    this.served++;
    this.meter.finished(epochMs(), endMs - arrived, serviceMs);
    return { pod: this.opts.name, node: this.opts.node, queuedMs: slot.startedMs - arrived, serviceMs };
  }

  async start(): Promise<number> {
    const port = this.boundPort || this.opts.port;
    if (this.boundPort) this.meter.restart(epochMs());
    if (this.opts.protocol === 'http') {
      const server = createServer((req, res) => {
        req.resume();
        void this.handle().then((reply) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(reply));
        });
      });
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.opts.host, () => resolve());
      });
      this.http = server;
      this.boundPort = (server.address() as AddressInfo).port;
    } else {
      const server = new grpc.Server();
      server.addService(rawUnaryService('Invoke', this.opts.method ?? FUNCTION_METHOD), {
        Invoke: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          void this.handle().then((reply) => callback(null, Buffer.from(JSON.stringify(reply))));
        },
      });
      this.boundPort = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${this.opts.host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
          err ? reject(err) : resolve(p),
        ),
      );
      this.grpcServer = server;
    }
    return this.boundPort;
  }

  /** Stop abruptly (a pod dying): open connections are cut. */
  async stop(): Promise<void> {
    const http = this.http;
    const g = this.grpcServer;
    this.http = undefined;
    this.grpcServer = undefined;
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    }
    if (g) g.forceShutdown();
  }
}
