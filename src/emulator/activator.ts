/**
 * An emulated Knative activator for the demo's function: a gRPC server that takes a request, waits
 * until a pod has room (Knative's throttler: requests beyond the pods' containerConcurrency queue in
 * the activator; with no pod at all they are held until one is ready — scale from zero), picks the
 * pod with Knative's policy (knative-lb.ts) and proxies the call to it. Its own connections leave
 * from its node, so the node's emulated link delays apply on both hops.
 */
import * as grpc from '@grpc/grpc-js';
import { FUNCTION_METHOD } from './function-pod.js';
import { lbPolicyFor, type LbPolicy, type PodTracker } from './knative-lb.js';
import { rawBytes, rawUnaryService } from '../util/grpc-raw.js';
import type { Rng } from '../util/rng.js';

export interface ActivatorOptions {
  readonly host: string;
  readonly containerConcurrency: number;
  readonly rng: Rng;
  /** Longest a request is held waiting for a pod (Knative: the revision's timeout). */
  readonly holdTimeoutMs: number;
}

interface Waiter {
  readonly grant: (t: PodTracker) => void;
  readonly fail: (err: Error) => void;
}

export class EmulatedActivator {
  private readonly policy: LbPolicy;
  private trackers: PodTracker[] = [];
  private readonly clients = new Map<string, grpc.Client>();
  private readonly waiters: Waiter[] = [];
  private server: grpc.Server | undefined;
  proxied = 0;
  held = 0;

  /** Requests waiting for a pod plus requests proxied and not answered yet. */
  get busy(): number {
    return this.waiters.length + this.trackers.reduce((a, t) => a + t.inFlight, 0);
  }

  constructor(private readonly opts: ActivatorOptions) {
    this.policy = lbPolicyFor(opts.containerConcurrency, opts.rng);
  }

  /** The revision's ready pods (`ip:port`), as the activator learns them from the private endpoints. */
  setTargets(dests: readonly string[]): void {
    const old = new Map(this.trackers.map((t) => [t.dest, t] as const));
    this.trackers = [...new Set(dests)].sort().map((d) => old.get(d) ?? { dest: d, inFlight: 0 });
    for (const [dest, client] of this.clients) {
      if (dests.includes(dest)) continue;
      client.close();
      this.clients.delete(dest);
    }
    this.drain();
  }

  async start(): Promise<number> {
    const server = new grpc.Server();
    server.addService(rawUnaryService('Invoke', FUNCTION_METHOD), {
      Invoke: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void this.handle(call, callback),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${this.opts.host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
    return port;
  }

  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
    for (const w of this.waiters.splice(0)) w.fail(new Error('activator stopping'));
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private async handle(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): Promise<void> {
    let tracker: PodTracker;
    try {
      tracker = await this.acquire(call);
    } catch (err) {
      callback({ code: grpc.status.UNAVAILABLE, details: `activator: ${(err as Error).message}` });
      return;
    }
    try {
      const reply = await this.forward(tracker.dest, call);
      this.proxied++;
      callback(null, reply);
    } catch (err) {
      const e = err as grpc.ServiceError;
      callback({ code: e.code ?? grpc.status.UNAVAILABLE, details: `activator → ${tracker.dest}: ${e.details ?? e.message}` });
    } finally {
      tracker.inFlight--;
      this.drain();
    }
  }

  /** A pod with room now, else wait in FIFO order until one has (or the caller gives up); the slot comes reserved. */
  private acquire(call: grpc.ServerUnaryCall<Buffer, Buffer>): Promise<PodTracker> {
    if (this.waiters.length === 0) {
      const t = this.policy(this.trackers);
      if (t) {
        t.inFlight++;
        return Promise.resolve(t);
      }
    }
    this.held++;
    return new Promise<PodTracker>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no pod became ready within ${this.opts.holdTimeoutMs} ms`)), this.opts.holdTimeoutMs);
      const onCancel = () => done(new Error('caller cancelled'));
      const waiter: Waiter = { grant: (t) => done(undefined, t), fail: (err) => done(err) };
      const done = (err?: Error, t?: PodTracker) => {
        clearTimeout(timer);
        call.off('cancelled', onCancel);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        if (err) reject(err);
        else resolve(t!);
      };
      call.on('cancelled', onCancel);
      this.waiters.push(waiter);
    });
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      const t = this.policy(this.trackers);
      if (!t) return;
      // Reserved here, so the next waiter sees the slot taken; grant() removes the waiter.
      t.inFlight++;
      this.waiters[0]!.grant(t);
    }
  }

  /** Proxy the call to `dest`; a caller that goes away cancels the proxied call too. */
  private forward(dest: string, call: grpc.ServerUnaryCall<Buffer, Buffer>): Promise<Buffer> {
    let client = this.clients.get(dest);
    if (!client) {
      client = new grpc.Client(dest, grpc.credentials.createInsecure());
      this.clients.set(dest, client);
    }
    const c = client;
    return new Promise((resolve, reject) => {
      const onCancel = () => outgoing.cancel();
      const outgoing = c.makeUnaryRequest(
        FUNCTION_METHOD,
        rawBytes,
        rawBytes,
        call.request,
        { deadline: call.getDeadline() },
        (err, value) => {
          call.off('cancelled', onCancel);
          if (err || !value) reject(err ?? new Error('empty reply'));
          else resolve(value);
        },
      );
      call.on('cancelled', onCancel);
    });
  }
}
