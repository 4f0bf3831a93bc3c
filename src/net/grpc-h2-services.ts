import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { GRPC_STATUS, type GatheredMessage, type GrpcStreamHandler, type H2Call, type StreamEnd } from './grpc-h2.js';

/** What a service needs of a gRPC server to be served: grpc-js's `Server` has it, and so does H2Services. */
export interface GrpcServiceHost {
  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void;
}

/**
 * A bidirectional stream on the node:http2 transport, shaped like the part of grpc-js's
 * `ServerDuplexStream` that Proxima's services use: 'data' (decoded with the method's
 * requestDeserialize), 'end' (the client half-closed), 'cancelled' (reset), 'close' (once, last),
 * `write(message, flushed)`, `end()`, `emit('error', {code, details})` to end with a status,
 * `getPeer()` and `getAuthContext()`. A message that is already bytes (a Buffer, or parts gathered by
 * the xDS response writer) goes out as it is; anything else through responseSerialize.
 */
export class H2DuplexCall extends EventEmitter {
  private closed = false;

  constructor(
    private readonly call: H2Call,
    private readonly method: grpc.MethodDefinition<unknown, unknown>,
  ) {
    super();
    // grpc-js ends a call with the status a handler emits as 'error'; the handler's own listeners
    // hear it too. Registered first so that an 'error' never goes unhandled.
    this.on('error', (err: Partial<grpc.StatusObject>) => {
      if (typeof err?.code === 'number') this.call.end(err.code, err.details ?? '');
      else this.call.end(GRPC_STATUS.INTERNAL, 'internal error');
    });
  }

  write(message: unknown, flushed?: () => void): boolean {
    if (Buffer.isBuffer(message)) this.call.write(message, flushed);
    else if (isGathered(message)) this.call.writeGathered(message, flushed);
    else this.call.write(this.method.responseSerialize(message), flushed);
    return true;
  }

  end(): void {
    this.call.end();
  }

  getPeer(): string {
    return this.call.peer;
  }

  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate } {
    return this.call.getAuthContext();
  }

  /** @internal */
  receive(msg: Buffer): void {
    if (this.closed) return;
    let decoded: unknown;
    try {
      decoded = this.method.requestDeserialize(msg);
    } catch (err) {
      // grpc-js answers a message it cannot decode with INTERNAL and ends the call.
      this.call.end(GRPC_STATUS.INTERNAL, `error deserializing the request: ${(err as Error).message}`);
      this.finish('error');
      return;
    }
    try {
      this.emit('data', decoded);
    } catch {
      // A handler that throws is a bug; it ends its stream, not the control plane (the services
      // catch and log what they expect to fail).
      this.call.end(GRPC_STATUS.INTERNAL, 'internal error');
      this.finish('error');
    }
  }

  /** @internal */
  finish(how: StreamEnd): void {
    if (this.closed) return;
    this.closed = true;
    if (how === 'end') this.emit('end');
    else if (how === 'cancelled' || how === 'error') this.emit('cancelled');
    this.emit('close');
  }
}

function isGathered(m: unknown): m is GatheredMessage {
  return typeof m === 'object' && m !== null && Array.isArray((m as GatheredMessage).parts);
}

/**
 * Implementations are written against grpc-js's call type (the tests serve them on grpc-js too);
 * H2DuplexCall has every member of it that they use.
 */
type DuplexImpl = (call: grpc.ServerDuplexStream<unknown, unknown>) => void;

/**
 * The services of one gRPC port, served on the node:http2 transport: `addService` takes the same
 * definitions and implementations as grpc-js's `Server` (bidirectional streaming methods only, which
 * is all a gateway's port has: ADS and the per-type xDS services, LRS, probe reports); `methods()` is
 * what createH2Transport serves.
 */
export class H2Services implements GrpcServiceHost {
  private readonly byPath = new Map<string, GrpcStreamHandler<H2DuplexCall>>();

  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    for (const [name, method] of Object.entries(service)) {
      const impl = (implementation[name] ?? (method.originalName ? implementation[method.originalName] : undefined)) as
        DuplexImpl | undefined;
      if (!impl) continue;
      if (!method.requestStream || !method.responseStream)
        throw new Error(`${method.path}: only bidirectional streaming methods are served on this port`);
      if (this.byPath.has(method.path)) throw new Error(`${method.path} is already served`);
      const definition = method as grpc.MethodDefinition<unknown, unknown>;
      this.byPath.set(method.path, {
        open: (call) => {
          const duplex = new H2DuplexCall(call, definition);
          // The implementation attaches its listeners before the first message can arrive (data
          // events come from a later turn of the event loop).
          impl(duplex as unknown as grpc.ServerDuplexStream<unknown, unknown>);
          return duplex;
        },
        message: (duplex, msg) => duplex.receive(msg),
        finish: (duplex, how) => duplex.finish(how),
      });
    }
  }

  methods(): ReadonlyMap<string, GrpcStreamHandler<H2DuplexCall>> {
    return this.byPath;
  }
}
