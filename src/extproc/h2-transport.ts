import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { PeerCertificate, SecureContextOptions, TLSSocket } from 'node:tls';

/**
 * gRPC server transport for the one bidirectional method ext_proc serves, straight on node:http2.
 * Envoy opens one Process stream per HTTP request, so the per-stream cost is the picker's cost: this
 * skips grpc-js's per-call machinery (interceptor chain, Metadata objects, stream decoder, deadline
 * and compression filters) and does only what the gRPC-over-HTTP/2 spec asks of a server
 * (grpc/grpc doc/PROTOCOL-HTTP2.md): `content-type: application/grpc*`, length-prefixed messages,
 * response headers before the first message, `grpc-status` in trailers (trailers-only without one).
 * Messages are uncompressed (`grpc-accept-encoding: identity`): a compressed one ends the stream with
 * UNIMPLEMENTED, as the spec allows. Every input is bounded: message size, streams per connection
 * (HTTP/2 SETTINGS), header list size.
 */

export const GRPC_STATUS = { OK: 0, INTERNAL: 13, UNIMPLEMENTED: 12, RESOURCE_EXHAUSTED: 8 } as const;

/** How a stream ended, from the server's side: the peer half-closed, reset, failed, or the stream closed. */
export type StreamEnd = 'end' | 'cancelled' | 'error' | 'close';

export interface GrpcStreamHandler<S> {
  /** A new stream on the method: returns the state the other callbacks get. */
  open(call: H2Call): S;
  message(state: S, msg: Buffer): void;
  /** Called at least once per stream, possibly several times (idempotent on the handler's side). */
  finish(state: S, how: StreamEnd): void;
}

export interface H2TransportOptions {
  readonly path: string;
  readonly maxMessageBytes: number;
  readonly maxStreamsPerConnection: number;
  /** TLS context (+ requestCert/rejectUnauthorized for mutual TLS); plaintext HTTP/2 (h2c) when absent. */
  readonly tls?: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean; minVersion: 'TLSv1.2' };
}

const RESPONSE_HEADERS = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity',
});
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
const KEEPALIVE_MS = 30_000;

const CALL = Symbol('proxima.h2.call');
type Stream = http2.ServerHttp2Stream & { [CALL]: H2Call };

/** One Process stream as the handler sees it. */
export class H2Call {
  /** 0: nothing sent; 1: response headers sent; 2: ended (trailers sent or queued). */
  private sent: 0 | 1 | 2 = 0;
  private trailers: http2.OutgoingHttpHeaders = OK_TRAILERS;
  private pending: Buffer | undefined;
  /** @internal the handler's state for this stream */
  state: unknown;
  /** @internal the client half-closed (END_STREAM, or a reset seen as the end of its side) */
  clientEnded = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
  ) {}

  get writable(): boolean {
    return this.sent !== 2 && !this.stream.destroyed;
  }

  /** A request header (gRPC metadata), first value. */
  header(name: string): string | undefined {
    const v = this.headers[name];
    return typeof v === 'string' ? v : v?.[0];
  }

  /** The verified client certificate (mutual TLS), for the node authorizer. */
  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate } {
    const socket = this.stream.session?.socket as TLSSocket | undefined;
    if (!socket || typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return {};
    const cert = socket.getPeerCertificate();
    return cert && Object.keys(cert).length > 0 ? { sslPeerCertificate: cert } : {};
  }

  /** Send one message (length-prefixed, uncompressed). */
  write(msg: Buffer): void {
    if (!this.writable) return;
    if (this.sent === 0) {
      this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
      this.sent = 1;
    }
    const frame = Buffer.allocUnsafe(5 + msg.length);
    frame[0] = 0;
    frame.writeUInt32BE(msg.length, 1);
    msg.copy(frame, 5);
    this.stream.write(frame);
  }

  /** End the server's side with a status: trailers after messages, or trailers-only. */
  end(status: number = GRPC_STATUS.OK, message?: string): void {
    if (!this.writable) return;
    const trailers =
      status === GRPC_STATUS.OK ? OK_TRAILERS : { 'grpc-status': String(status), 'grpc-message': encodeURIComponent(message ?? '') };
    if (this.sent === 0) this.stream.respond({ ...RESPONSE_HEADERS, ...trailers }, { endStream: true });
    else {
      this.trailers = trailers;
      this.stream.end();
    }
    this.sent = 2;
  }

  /** @internal 'wantTrailers' */
  sendTrailers(): void {
    if (!this.stream.destroyed) this.stream.sendTrailers(this.trailers);
  }

  /** @internal Split incoming bytes into messages; false (stream ended with an error status) on a bad frame. */
  feed(chunk: Buffer, maxMessageBytes: number, each: (msg: Buffer) => void): boolean {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    while (buf.length >= 5) {
      const length = buf.readUInt32BE(1);
      if (buf[0] !== 0) {
        this.end(GRPC_STATUS.UNIMPLEMENTED, 'compressed messages are not supported (grpc-accept-encoding: identity)');
        return false;
      }
      if (length > maxMessageBytes) {
        this.end(GRPC_STATUS.RESOURCE_EXHAUSTED, `message of ${length} bytes is larger than ${maxMessageBytes}`);
        return false;
      }
      if (buf.length < 5 + length) break;
      each(buf.subarray(5, 5 + length));
      buf = buf.subarray(5 + length);
    }
    if (buf.length > 0) this.pending = buf;
    return true;
  }
}

export interface H2Transport {
  /** Hand it an accepted socket (from the front listener that caps connections). */
  accept(socket: Socket): void;
  /** Follow certificate reloads (TLS only). */
  setSecureContext(o: SecureContextOptions): void;
  /** GOAWAY every session, destroy what is left after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export function createH2Transport<S>(opts: H2TransportOptions, handler: GrpcStreamHandler<S>): H2Transport {
  const settings: http2.Settings = { maxConcurrentStreams: opts.maxStreamsPerConnection, maxHeaderListSize: 16 * 1024 };
  const server = opts.tls ? http2.createSecureServer({ ...opts.tls, settings, allowHTTP1: false }) : http2.createServer({ settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  // One set of listeners for every stream (no closures per stream): the call hangs off the stream.
  function onData(this: Stream, chunk: Buffer): void {
    const call = this[CALL];
    if (!call.writable) return; // ended with an error status: the rest is ignored
    const ok = call.feed(chunk, opts.maxMessageBytes, (m) => handler.message(call.state as S, m));
    if (!ok) handler.finish(call.state as S, 'error');
  }
  // The client's END_STREAM is the end of the gateway's request (Envoy closes the stream when the
  // request is done): the handler hears of it at once, not only at 'close', which comes after our
  // trailers are written — one or more event-loop turns later. A half-close followed by a reset
  // (Envoy's closeStream, node's and grpc-js's cancel) is an end here. A bare reset emits
  // 'aborted' before node:http2 ends the readable side: that one is left to 'close', which tells a
  // cancel by its RST_STREAM code. finish is idempotent.
  function onEnd(this: Stream): void {
    const call = this[CALL];
    call.clientEnded = true;
    if (!this.closed && !this.aborted) handler.finish(call.state as S, 'end');
    call.end();
  }
  function onAborted(this: Stream): void {
    handler.finish(this[CALL].state as S, 'cancelled');
  }
  function onError(this: Stream): void {
    handler.finish(this[CALL].state as S, 'error');
  }
  function onClose(this: Stream): void {
    const call = this[CALL];
    const reset = this.aborted || (this.rstCode ?? http2.constants.NGHTTP2_NO_ERROR) !== http2.constants.NGHTTP2_NO_ERROR;
    handler.finish(call.state as S, reset ? 'cancelled' : call.clientEnded ? 'end' : 'close');
  }
  function onWantTrailers(this: Stream): void {
    this[CALL].sendTrailers();
  }
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', () => undefined);
    const type = headers['content-type'];
    if (headers[':method'] !== 'POST' || typeof type !== 'string' || !type.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const call = new H2Call(stream, headers);
    if (headers[':path'] !== opts.path)
      return call.end(GRPC_STATUS.UNIMPLEMENTED, `unknown method ${String(headers[':path']).slice(0, 200)}`);
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity')
      return call.end(GRPC_STATUS.UNIMPLEMENTED, 'only identity grpc-encoding is accepted');
    const s = stream as Stream;
    s[CALL] = call;
    call.state = handler.open(call);
    s.on('data', onData);
    s.on('end', onEnd);
    s.on('aborted', onAborted);
    s.on('error', onError);
    s.on('close', onClose);
    s.on('wantTrailers', onWantTrailers);
  });
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on('error', () => undefined);
    session.once('close', () => sessions.delete(session));
  });
  server.on('sessionError', () => undefined);
  server.on('tlsClientError', () => undefined);
  return {
    accept(socket) {
      // Dead peers (no FIN) are found by TCP keepalive, as grpc-js's keepalive pings found them.
      socket.setKeepAlive(true, KEEPALIVE_MS);
      server.emit('connection', socket);
    },
    setSecureContext(o) {
      if (opts.tls) (server as http2.Http2SecureServer).setSecureContext(o);
    },
    close(graceMs = 1000) {
      for (const s of sessions) if (!s.closed) s.close();
      if (sessions.size === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          clearInterval(check);
          for (const s of sessions) s.destroy();
          resolve();
        }, graceMs);
        timer.unref();
        const check = setInterval(() => {
          if (sessions.size > 0) return;
          clearInterval(check);
          clearTimeout(timer);
          resolve();
        }, 20);
        check.unref();
      });
    },
  };
}
