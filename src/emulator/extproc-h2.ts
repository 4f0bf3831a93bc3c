import http2 from 'node:http2';
import { EXTPROC_METHOD_PATH } from '../extproc/server.js';
import { frameMessage, MessageReader } from '../net/grpc-frames.js';

/**
 * A gateway's ext_proc connection as Envoy's gRPC client keeps it: one HTTP/2 connection, one
 * Process stream per HTTP request, length-prefixed uncompressed messages (gRPC over HTTP/2). On
 * node:http2 directly: the demo's gateways and the benchmark's load clients share two cores with
 * everything else, and Envoy does this in C++, so the client must cost far less than the server.
 */

const REQUEST_HEADERS = Object.freeze({
  ':method': 'POST',
  ':path': EXTPROC_METHOD_PATH,
  'content-type': 'application/grpc+proto',
  te: 'trailers',
});
/** A stream Envoy would give up on: one that neither answers nor ends. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface ProcessStreamEvents {
  /** One ProcessingResponse (payload, without the 5-byte prefix). */
  message(msg: Buffer): void;
  /** The stream is over: `status` is grpc-status (-1: reset, refused or malformed). */
  done(status: number): void;
}

export interface ProcessStream {
  write(msg: Buffer): void;
  /** Half-close (Envoy's end of the HTTP request). */
  end(): void;
  /** Reset (Envoy's timeout or client disconnect). */
  cancel(): void;
}

/** Until the server's SETTINGS arrive: the HTTP/2 default the spec recommends as a floor. */
const DEFAULT_MAX_STREAMS = 100;
const ACTIVE = Symbol('proxima.extproc.active');
const MAX = Symbol('proxima.extproc.max');
type Session = http2.ClientHttp2Session & { [ACTIVE]: number; [MAX]: number | undefined };

/**
 * Like Envoy's HTTP/2 connection pool: streams go on an open connection that has room under the
 * server's SETTINGS_MAX_CONCURRENT_STREAMS, and another connection opens when none has (one
 * stream per in-flight request: a busy gateway needs more than one connection's worth).
 */
export class ExtProcH2Channel {
  private readonly sessions: Session[] = [];
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS as last announced (a new connection's until its own arrive). */
  private serverMaxStreams = DEFAULT_MAX_STREAMS;

  constructor(private readonly target: string) {}

  private connect(): Session {
    for (const s of this.sessions) {
      const max = s[MAX] ?? this.serverMaxStreams;
      if (!s.closed && !s.destroyed && s[ACTIVE] < max) return s;
    }
    const s = http2.connect(`http://${this.target}`, { settings: { enablePush: false } }) as Session;
    s[ACTIVE] = 0;
    s[MAX] = undefined;
    s.on('remoteSettings', (settings: http2.Settings) => {
      if (settings.maxConcurrentStreams !== undefined) this.serverMaxStreams = s[MAX] = settings.maxConcurrentStreams;
    });
    s.on('error', () => undefined);
    s.once('close', () => {
      const i = this.sessions.indexOf(s);
      if (i >= 0) this.sessions.splice(i, 1);
    });
    this.sessions.push(s);
    return s;
  }

  /** Open a Process stream with extra request headers (gRPC metadata). */
  open(events: ProcessStreamEvents, metadata?: Readonly<Record<string, string>>): ProcessStream {
    let ended = false;
    const finish = (status: number) => {
      if (ended) return;
      ended = true;
      events.done(status);
    };
    let req: http2.ClientHttp2Stream;
    const session = this.connect();
    try {
      req = session.request(metadata ? { ...REQUEST_HEADERS, ...metadata } : REQUEST_HEADERS);
    } catch {
      queueMicrotask(() => finish(-1));
      return { write: () => undefined, end: () => undefined, cancel: () => undefined };
    }
    session[ACTIVE]++;
    let status = -1;
    req.on('response', (headers) => {
      const s = headers['grpc-status'];
      if (s !== undefined) status = Number(s);
    });
    req.on('trailers', (trailers) => {
      const s = trailers['grpc-status'];
      if (s !== undefined) status = Number(s);
    });
    const reader = new MessageReader(MAX_MESSAGE_BYTES);
    const deliver = (msg: Buffer): boolean => (events.message(msg), true);
    req.on('data', (chunk: Buffer) => {
      if (reader.feed(chunk, deliver)) {
        req.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
        finish(-1);
      }
    });
    req.on('error', () => finish(-1));
    req.on('close', () => {
      session[ACTIVE]--;
      finish(status);
    });
    return {
      write: (msg) => {
        if (!req.destroyed && !req.writableEnded) req.write(frameMessage(msg));
      },
      end: () => {
        if (!req.destroyed && !req.writableEnded) req.end();
      },
      cancel: () => {
        if (!req.destroyed) req.close(http2.constants.NGHTTP2_CANCEL);
      },
    };
  }

  close(): void {
    for (const s of this.sessions.splice(0)) s.close();
  }
}
