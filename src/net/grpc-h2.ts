import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { PeerCertificate, SecureContextOptions, TLSSocket } from 'node:tls';
import { frameMessage, MessageReader, writeMessage } from './grpc-frames.js';

/**
 * gRPC server transport for bidirectional streaming methods, straight on node:http2 (ext_proc's
 * Process, and the gateways' port: xDS, LRS, probe reports). Envoy opens one Process stream per HTTP
 * request, and an xDS change is one response and one ACK on every gateway's stream, so the
 * per-message cost is the server's cost: this skips grpc-js's per-call machinery (interceptor chain,
 * Metadata objects, a fresh buffer per incoming message, a copy of every outgoing one into a frame of
 * its own, deadline and compression filters) and does only what the gRPC-over-HTTP/2 spec asks of a server
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
  readonly maxMessageBytes: number;
  readonly maxStreamsPerConnection: number;
  /** TLS context (+ requestCert/rejectUnauthorized for mutual TLS); plaintext HTTP/2 (h2c) when absent. */
  readonly tls?: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean; minVersion: 'TLSv1.2' };
  /** HTTP/2 PING every this often; a session whose last PING is still unanswered then is closed (default 30 s). */
  readonly keepaliveMs?: number;
}

const RESPONSE_HEADERS = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity',
});
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
const KEEPALIVE_MS = 30_000;
/** Messages up to this size are framed by a copy into one buffer; larger ones are written as parts. */
const SMALL_MESSAGE = 4096;

/**
 * grpc-message's encoding (PROTOCOL-HTTP2.md "Responses"): every UTF-8 octet outside 0x20–0x7E, and
 * '%', as %XX; everything else as it is (clients decode with decodeURI-like rules, so ':' or ','
 * escaped by encodeURIComponent would reach them escaped).
 */
function percentEncode(message: string): string {
  let out = '';
  for (const b of Buffer.from(message, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const CALL = Symbol('proxima.h2.call');
type Stream = http2.ServerHttp2Stream & { [CALL]: H2Call };

/** A message already split into the buffers it is made of (written with one writev, never joined). */
export interface GatheredMessage {
  readonly parts: readonly Buffer[];
  readonly byteLength: number;
}

/** One stream as the handler sees it. */
export class H2Call {
  /** 0: nothing sent; 1: response headers sent; 2: ended (trailers sent or queued). */
  private sent: 0 | 1 | 2 = 0;
  private trailers: http2.OutgoingHttpHeaders = OK_TRAILERS;
  private readonly reader: MessageReader;
  /** @internal the handler's state for this stream */
  state: unknown;
  /** @internal the method's handler */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler keeps its own state type
  handler!: GrpcStreamHandler<any>;
  /** @internal the client half-closed (END_STREAM, or a reset seen as the end of its side) */
  clientEnded = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly maxMessageBytes: number,
  ) {
    this.reader = new MessageReader(maxMessageBytes);
  }

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

  /** Send one message (length-prefixed, uncompressed); `flushed` runs once HTTP/2 has taken the bytes. */
  write(msg: Buffer, flushed?: () => void): void {
    if (!this.writable) return flushed?.();
    this.respondOnce();
    if (msg.length <= SMALL_MESSAGE) {
      // One buffer: a separate 5-byte write costs more than the copy.
      this.stream.write(frameMessage(msg), flushed);
      return;
    }
    writeMessage(this.stream, [msg], msg.length, flushed);
  }

  /** Send one message given as its parts: a frame header, then the parts as they are (no copy). */
  writeGathered(msg: GatheredMessage, flushed?: () => void): void {
    if (!this.writable) return flushed?.();
    this.respondOnce();
    writeMessage(this.stream, msg.parts, msg.byteLength, flushed);
  }

  private respondOnce(): void {
    if (this.sent === 0) {
      this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
      this.sent = 1;
    }
  }

  /** The peer's address as `ip:port` (`[v6]:port`), as grpc-js's getPeer gives it. */
  get peer(): string {
    const socket = this.stream.session?.socket;
    const ip = socket?.remoteAddress ?? 'unknown';
    return `${ip.includes(':') ? `[${ip}]` : ip}:${socket?.remotePort ?? 0}`;
  }

  /** End the server's side with a status: trailers after messages, or trailers-only. */
  end(status: number = GRPC_STATUS.OK, message?: string): void {
    if (!this.writable) return;
    const trailers =
      status === GRPC_STATUS.OK ? OK_TRAILERS : { 'grpc-status': String(status), 'grpc-message': percentEncode(message ?? '') };
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
  feed(chunk: Buffer): boolean {
    const error = this.reader.feed(chunk, this.deliver);
    if (!error) return true;
    if (error.kind === 'compressed')
      this.end(GRPC_STATUS.UNIMPLEMENTED, 'compressed messages are not supported (grpc-accept-encoding: identity)');
    else this.end(GRPC_STATUS.RESOURCE_EXHAUSTED, `message of ${error.length} bytes is larger than ${this.maxMessageBytes}`);
    return false;
  }

  /** To the handler; stops reading once the handler has ended the stream. */
  private readonly deliver = (msg: Buffer): boolean => {
    this.handler.message(this.state, msg);
    return this.writable;
  };
}

export interface H2Transport {
  /** Hand it an accepted socket (from the front listener that caps connections). */
  accept(socket: Socket): void;
  /** Follow certificate reloads (TLS only). */
  setSecureContext(o: SecureContextOptions): void;
  /** GOAWAY every session, destroy what is left after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/** Serves the methods of `methods` (keyed by path, `/package.Service/Method`); any other path ends UNIMPLEMENTED. */
export function createH2Transport(
  opts: H2TransportOptions,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler keeps its own state type
  methods: ReadonlyMap<string, GrpcStreamHandler<any>>,
): H2Transport {
  const settings: http2.Settings = { maxConcurrentStreams: opts.maxStreamsPerConnection, maxHeaderListSize: 16 * 1024 };
  const server = opts.tls ? http2.createSecureServer({ ...opts.tls, settings, allowHTTP1: false }) : http2.createServer({ settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  // One set of listeners for every stream (no closures per stream): the call hangs off the stream.
  function onData(this: Stream, chunk: Buffer): void {
    const call = this[CALL];
    if (!call.writable) return; // ended with an error status: the rest is ignored
    const ok = call.feed(chunk);
    if (!ok) call.handler.finish(call.state, 'error');
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
    if (!this.closed && !this.aborted) call.handler.finish(call.state, 'end');
    call.end();
  }
  function onAborted(this: Stream): void {
    const call = this[CALL];
    call.handler.finish(call.state, 'cancelled');
  }
  function onError(this: Stream): void {
    const call = this[CALL];
    call.handler.finish(call.state, 'error');
  }
  function onClose(this: Stream): void {
    const call = this[CALL];
    const reset = this.aborted || (this.rstCode ?? http2.constants.NGHTTP2_NO_ERROR) !== http2.constants.NGHTTP2_NO_ERROR;
    call.handler.finish(call.state, reset ? 'cancelled' : call.clientEnded ? 'end' : 'close');
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
    const call = new H2Call(stream, headers, opts.maxMessageBytes);
    const handler = methods.get(String(headers[':path']));
    if (!handler) return call.end(GRPC_STATUS.UNIMPLEMENTED, `unknown method ${String(headers[':path']).slice(0, 200)}`);
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity')
      return call.end(GRPC_STATUS.UNIMPLEMENTED, 'only identity grpc-encoding is accepted');
    const s = stream as Stream;
    s[CALL] = call;
    call.handler = handler;
    call.state = handler.open(call);
    s.on('data', onData);
    s.on('end', onEnd);
    s.on('aborted', onAborted);
    s.on('error', onError);
    s.on('close', onClose);
    s.on('wantTrailers', onWantTrailers);
  });
  // grpc-js's keepalive, which this port had before: a gateway that vanished without a FIN (node
  // lost, cable pulled) is found within two intervals, its streams end and /debug stops listing it.
  const unanswered = new WeakSet<http2.ServerHttp2Session>();
  const keepalive = setInterval(() => {
    for (const s of sessions) {
      if (s.closed || s.destroyed) continue;
      if (unanswered.has(s)) {
        s.destroy();
        continue;
      }
      unanswered.add(s);
      if (!s.ping((err) => (err ? undefined : unanswered.delete(s)))) unanswered.delete(s);
    }
  }, opts.keepaliveMs ?? KEEPALIVE_MS);
  keepalive.unref();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on('error', () => undefined);
    session.once('close', () => sessions.delete(session));
  });
  server.on('sessionError', () => undefined);
  server.on('tlsClientError', () => undefined);
  return {
    accept(socket) {
      // The HTTP/2 PINGs above find dead peers; TCP keepalive keeps idle NAT and conntrack entries alive.
      socket.setKeepAlive(true, KEEPALIVE_MS);
      server.emit('connection', socket);
    },
    setSecureContext(o) {
      if (opts.tls) (server as http2.Http2SecureServer).setSecureContext(o);
    },
    close(graceMs = 1000) {
      clearInterval(keepalive);
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
