import * as grpc from '@grpc/grpc-js';
import { encodeRequest, HEADER_DESTINATION, HEADER_NODE } from '../extproc/codec.js';
import { setHeaderValue } from './extproc-reply.js';
import { EXTPROC_METHOD_PATH } from '../extproc/server.js';
import { MESSAGE_TIMEOUT_MS } from '../xds/resources/extproc.js';
import { rawBytes } from '../util/grpc-raw.js';

/** What Envoy's ext_proc filter learns for one request: the picked destination, if any. */
export interface ExtProcDecision {
  readonly destination?: string;
  /** The upstream answered: close the stream, as Envoy does when the HTTP request is done. */
  complete(): void;
}

/**
 * The emulated gateway's half of ext_proc: what Envoy's ext_proc filter does per request with the
 * shipped processing_mode (request headers SEND, everything else SKIP/NONE): a Process stream,
 * request_headers out, the header mutation back, and the stream closed when the request is done
 * (Envoy closes it in the filter's onDestroy), so the demo can route "proxima + ext_proc" the way
 * an Envoy gateway with an ORIGINAL_DST cluster would.
 */
export class ExtProcClient {
  private readonly client: grpc.Client;
  /** The request_headers message per authority: the same bytes for every request. */
  private readonly requests = new Map<string, Buffer>();

  constructor(
    target: string,
    private readonly node: string,
  ) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure());
  }

  decide(authority: string, timeoutMs = MESSAGE_TIMEOUT_MS): Promise<ExtProcDecision> {
    return new Promise((resolve) => {
      const call = this.client.makeBidiStreamRequest<Buffer, Buffer>(EXTPROC_METHOD_PATH, rawBytes, rawBytes, new grpc.Metadata(), {
        deadline: Date.now() + 10_000,
      });
      let settled = false;
      const complete = () => {
        if (!call.destroyed) call.end();
      };
      // Fail open like Envoy's failure_mode_allow: no decision within message_timeout → route by EDS.
      const timer = setTimeout(() => settle({ complete: () => call.cancel() }), timeoutMs);
      function settle(d: ExtProcDecision) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(d);
      }
      call.on('data', (buf: Buffer) => {
        if (settled) return;
        const destination = setHeaderValue(buf, HEADER_DESTINATION);
        settle({ ...(destination ? { destination } : {}), complete });
      });
      call.on('error', () => settle({ complete: () => undefined }));
      call.on('end', () => settle({ complete: () => undefined }));
      call.write(this.requestFor(authority));
    });
  }

  private requestFor(authority: string): Buffer {
    let b = this.requests.get(authority);
    if (!b) {
      b = encodeRequest({
        request_headers: {
          headers: {
            headers: [
              { key: ':method', raw_value: Buffer.from('POST') },
              { key: ':path', raw_value: Buffer.from('/proxima.demo.v1.Function/Invoke') },
              { key: ':authority', raw_value: Buffer.from(authority) },
              { key: HEADER_NODE, raw_value: Buffer.from(this.node) },
            ],
          },
          end_of_stream: true,
        },
      });
      this.requests.set(authority, b);
    }
    return b;
  }

  close(): void {
    this.client.close();
  }
}
